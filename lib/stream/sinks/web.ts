// The web sink: a stream's bytes, handed by the core once per loop turn,
// become chunks of a WHATWG ReadableStream<Uint8Array> (the body of a
// fetch-style Response). The stream has a high-water mark of 0 and a chunk
// is enqueued only when a reader asks (pull), then acknowledged to the
// core: the core's queue (its backpressure and slow-consumer policy)
// measures exactly what the reader has not taken.
import { C } from '../../native/binding';
import type { Sink } from '../sink';
import type { SSEStream as AnySSEStream } from '../stream';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any event map
type SSEStream = AnySSEStream<any>;

export class WebSink implements Sink {
  /** The response body. */
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** A reader waits: pull() ran and nothing was handed since. */
  private resolvePull: (() => void) | undefined;
  /** A chunk handed while no reader waited: enqueued and acknowledged at the next pull. */
  private pending: Buffer | undefined;
  private ended = false;
  private endReason: Error | undefined;

  constructor(private readonly owner: SSEStream) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.pull(),
        cancel: () => {
          if (!this.ended) owner.gone(C.Errno.EOF);
        },
      },
      { highWaterMark: 0 },
    );
  }

  private pull(): Promise<void> | void {
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      this.controller.enqueue(pending);
      this.owner.acknowledge();
      if (this.ended) this.closeController(this.endReason);
      return;
    }
    if (this.ended) return;
    return new Promise<void>((resolve) => {
      this.resolvePull = resolve;
    });
  }

  deliver(bytes: Buffer): boolean {
    if (this.ended) return true;
    const resolve = this.resolvePull;
    if (resolve === undefined) {
      this.pending = bytes;
      return false;
    }
    this.resolvePull = undefined;
    this.controller.enqueue(bytes);
    resolve();
    return true;
  }

  end(reason: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    // A graceful end never leaves a chunk unread (the core closes only once
    // every hand-off was acknowledged); an abort drops it.
    this.pending = undefined;
    this.closeController(reason);
    const resolve = this.resolvePull;
    this.resolvePull = undefined;
    resolve?.();
  }

  private closeController(reason: Error | undefined): void {
    try {
      // A slow consumer or timeout errors it (the framework aborts the
      // response); the client leaving (request aborted; a cancel made this
      // throw), a refusal by a limit (an empty 503 body) and a graceful
      // close end it.
      const code = (reason as { code?: string } | undefined)?.code;
      if (reason === undefined || code === 'SSE_CLIENT_GONE' || code === 'SSE_LIMIT') this.controller.close();
      else this.controller.error(reason);
    } catch {
      // Already closed or errored by the consumer.
    }
  }
}
