// The fallback sink: the core hands a stream's bytes once per loop turn and
// this writes them with res.write, where the core may not adopt the socket
// (TLS, HTTP/2, no fd, `adopt: false`). Queue, limits and timings are the
// core's; this only delivers, acknowledges and ends.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { C } from '../../native/binding';
import type { Sink } from '../sink';
import type { SSEStream as AnySSEStream } from '../stream';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any event map
type SSEStream = AnySSEStream<any>;

type Res = ServerResponse | Http2ServerResponse;

export class ResponseSink implements Sink {
  private ended = false;
  private waiting = false;

  constructor(
    private readonly res: Res,
    private readonly stream: SSEStream,
  ) {
    res.on('drain', this.onDrain);
    // Not ended by us: the client went away.
    res.on('close', () => {
      if (!this.ended) stream.gone(C.Errno.EOF);
    });
    res.on('error', () => {
      if (!this.ended) stream.gone(C.Errno.ECONNRESET);
    });
    // A response pipelined behind another has no socket yet and hears no
    // 'close' when the client leaves: the request's socket tells.
    const socket = (res as ServerResponse).req?.socket;
    if (socket && typeof socket.once === 'function') {
      this.socket = socket;
      socket.once('close', this.onSocketClose);
    }
  }

  private socket: NodeJS.EventEmitter | undefined;
  private readonly onSocketClose = (): void => {
    if (!this.ended) this.stream.gone(C.Errno.EOF);
  };

  deliver(bytes: Buffer): boolean {
    if (this.ended || this.res.destroyed) return true;
    // Node buffers what the socket does not take; past its own high-water
    // mark the core waits for 'drain' before handing more.
    if ((this.res as ServerResponse).write(bytes)) return true;
    this.waiting = true;
    return false;
  }

  private readonly onDrain = (): void => {
    if (!this.waiting) return;
    this.waiting = false;
    this.stream.acknowledge();
  };

  end(reason: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.res.off('drain', this.onDrain);
    this.socket?.off('close', this.onSocketClose);
    if (reason === undefined) (this.res as ServerResponse).end();
    else if (!this.res.destroyed) this.res.destroy();
  }
}
