// The fallback sink: writes frames through res.write where the core may not
// adopt the socket (TLS, HTTP/2, no fd). Same limits, same events.
// Heartbeats and timeouts come from the one timer of ./ticker.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { encodeArgs, type MessageArgs } from '../../native/encoder';
import { KEEPALIVE, startTicking, stopTicking } from './ticker';
import { SendResult, type Sink, type SinkEvents, type SinkLimits, jsSinkStats } from './sink';

type Res = ServerResponse | Http2ServerResponse;

export class ResponseSink implements Sink {
  readonly kind = 'response' as const;
  private closed = false;
  private wantDrain = false;
  private readonly opened = Date.now();
  private lastWrite = Date.now();
  private lastEvent = Date.now();

  constructor(
    private readonly res: Res,
    private readonly limits: SinkLimits,
    readonly events: SinkEvents,
  ) {
    res.on('drain', this.checkDrain);
    // Finished only if end() was called: an HTTP/2 response reports
    // writableFinished once its stream is destroyed by the client too.
    res.on('close', () => this.finish(res.writableEnded && res.writableFinished ? undefined : new Error('client disconnected')));
    res.on('error', () => this.finish(new Error('response error')));
    if (limits.heartbeatMs > 0 || limits.idleTimeoutMs > 0 || limits.maxDurationMs > 0) {
      startTicking(this);
    }
  }

  send(args: MessageArgs): SendResult {
    if (this.closed) return SendResult.Closed;
    const r = this.write(encodeArgs(args));
    if (r !== SendResult.Closed && r !== SendResult.Dropped) {
      this.lastEvent = Date.now();
      jsSinkStats.eventsSent++;
    }
    return r;
  }

  sendBytes(bytes: Uint8Array): SendResult {
    if (this.closed) return SendResult.Closed;
    const r = this.write(bytes);
    if (r === SendResult.Success || r === SendResult.Backpressure) jsSinkStats.eventsSent++;
    return r;
  }

  private write(bytes: Uint8Array): SendResult {
    const buffered = this.res.writableLength;
    if (buffered + bytes.length > this.limits.maxBuffered) {
      if (this.limits.onSlowConsumer === 'drop') {
        this.wantDrain = true;
        jsSinkStats.drops++;
        // Dropped on an empty buffer (one frame larger than maxBuffered): no
        // write callback is coming to tell the sender it may go on.
        if (buffered === 0) setImmediate(this.checkDrain);
        return SendResult.Dropped;
      }
      jsSinkStats.slowConsumerCloses++;
      this.abort(new Error('slow consumer: maxBuffered exceeded'));
      return SendResult.Closed;
    }
    // Node emits 'drain' only after one of its own writes returned false
    // (above its socket's 16 KiB): under a smaller highWaterMark, the write
    // callback tells when the queue is back under it.
    const over = buffered + bytes.length > this.limits.highWaterMark;
    (this.res as ServerResponse).write(bytes, over ? this.checkDrain : undefined);
    this.lastWrite = Date.now();
    jsSinkStats.bytesSent += bytes.length;
    if (this.res.writableLength > this.limits.highWaterMark) {
      this.wantDrain = true;
      return SendResult.Backpressure;
    }
    return SendResult.Success;
  }

  private readonly checkDrain = (): void => {
    if (this.wantDrain && !this.closed && this.res.writableLength <= this.limits.highWaterMark) {
      this.wantDrain = false;
      this.events.onDrain();
    }
  };

  flush(): void {
    // Node writes at the end of the tick; nothing is held back here.
  }

  close(graceful: boolean): void {
    if (this.closed) return;
    if (graceful) {
      this.closed = true;
      stopTicking(this);
      (this.res as ServerResponse).end(() => this.finish(undefined));
    } else {
      this.abort(undefined);
    }
  }

  private abort(reason: Error | undefined): void {
    this.closed = true;
    stopTicking(this);
    this.res.destroy();
    this.finish(reason);
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.res.writableLength;
  }

  private finished = false;
  private finish(reason: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    stopTicking(this);
    this.events.onClose(reason);
  }

  /** @internal The period this sink's timings need from the shared timer. */
  tickWanted(): number {
    const ms = [this.limits.heartbeatMs, this.limits.idleTimeoutMs, this.limits.maxDurationMs].filter((x) => x > 0);
    return ms.length === 0 ? 1000 : Math.min(1000, Math.floor(Math.min(...ms) / 2));
  }

  /** @internal Heartbeats and timeouts, from the shared timer. */
  tick(now: number): void {
    if (this.closed) return;
    const { heartbeatMs, idleTimeoutMs, maxDurationMs } = this.limits;
    if (maxDurationMs > 0 && now - this.opened >= maxDurationMs) return this.close(true);
    if (idleTimeoutMs > 0 && now - this.lastEvent >= idleTimeoutMs) return this.close(true);
    if (heartbeatMs > 0 && now - this.lastWrite >= heartbeatMs && this.write(KEEPALIVE) !== SendResult.Closed) {
      jsSinkStats.heartbeats++;
    }
  }
}
