// The web sink: an SSEStream writing into a WHATWG ReadableStream<Uint8Array>
// (the body of a fetch-style Response). Frames come from the core encoder;
// this file only queues them. The queue is ours, not the stream's: the
// stream has a high-water mark of 0, so its pull() runs only while a reader
// waits, and hands over everything queued as one chunk. That gives exact
// backpressure (bytes the reader has not taken), one chunk per burst, and a
// graceful close that completes when the reader has taken the last byte.
// Heartbeats and timeouts come from the one timer of ./ticker.
import { encodeArgs, type MessageArgs } from '../../native/encoder';
import { KEEPALIVE, startTicking, stopTicking } from './ticker';
import { SendResult, type Sink, type SinkEvents, type SinkLimits, jsSinkStats } from './sink';

// A graceful close whose reader never takes the rest ends this long after (the core's limit too).
const DRAIN_TIMEOUT_MS = 10_000;


/**
 * A Sink whose reader is a ReadableStream consumer (a framework writing a
 * Response body to its socket). `stream` is created with the sink; the
 * consumer cancelling it (the client went away) closes the sink with an Error.
 */
export class WebSink implements Sink {
  readonly kind = 'web' as const;
  /** The response body. */
  readonly stream: ReadableStream<Uint8Array>;

  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** A reader waits: pull() ran and found nothing queued. */
  private waiting = false;
  private resolvePull: (() => void) | undefined;
  private handOffScheduled = false;
  private closing = false;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private wantDrain = false;
  private readonly opened = Date.now();
  private lastWrite = Date.now();
  private lastEvent = Date.now();

  constructor(
    private readonly limits: SinkLimits,
    readonly events: SinkEvents,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.pull(),
        cancel: () => this.finish(new Error('client disconnected')),
      },
      { highWaterMark: 0 },
    );
    if (limits.heartbeatMs > 0 || limits.idleTimeoutMs > 0 || limits.maxDurationMs > 0) {
      startTicking(this);
    }
  }

  send(args: MessageArgs): SendResult {
    if (this.closed || this.closing) return SendResult.Closed;
    const r = this.write(encodeArgs(args));
    if (r !== SendResult.Closed && r !== SendResult.Dropped) {
      this.lastEvent = Date.now();
      jsSinkStats.eventsSent++;
    }
    return r;
  }

  sendBytes(bytes: Uint8Array): SendResult {
    if (this.closed || this.closing) return SendResult.Closed;
    const r = this.write(bytes);
    if (r === SendResult.Success || r === SendResult.Backpressure) jsSinkStats.eventsSent++;
    return r;
  }

  private write(bytes: Uint8Array): SendResult {
    if (this.queued + bytes.length > this.limits.maxBuffered) {
      if (this.limits.onSlowConsumer === 'drop') {
        this.wantDrain = true;
        jsSinkStats.drops++;
        // Dropped on an empty queue (one frame larger than maxBuffered): no
        // hand-off is coming to tell the sender it may go on.
        if (this.queued === 0) {
          setImmediate(() => {
            if (this.wantDrain && !this.closed && this.queued === 0) {
              this.wantDrain = false;
              this.events.onDrain();
            }
          });
        }
        return SendResult.Dropped;
      }
      jsSinkStats.slowConsumerCloses++;
      this.abort(new Error('slow consumer: maxBuffered exceeded'));
      return SendResult.Closed;
    }
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.lastWrite = Date.now();
    jsSinkStats.bytesSent += bytes.length;
    if (this.waiting) this.scheduleHandOff();
    if (this.queued > this.limits.highWaterMark) {
      this.wantDrain = true;
      return SendResult.Backpressure;
    }
    return SendResult.Success;
  }

  // Sends of one synchronous run reach a waiting reader as one chunk.
  private scheduleHandOff(): void {
    if (this.handOffScheduled) return;
    this.handOffScheduled = true;
    queueMicrotask(() => {
      this.handOffScheduled = false;
      if (this.waiting) this.handOff();
    });
  }

  private pull(): Promise<void> | void {
    if (this.closed) return;
    if (this.queued > 0 || this.closing) return this.handOff();
    this.waiting = true;
    return new Promise<void>((resolve) => {
      this.resolvePull = resolve;
    });
  }

  // Gives the reader everything queued; ends the stream after the last chunk
  // of a graceful close.
  private handOff(): void {
    this.waiting = false;
    const resolve = this.resolvePull;
    this.resolvePull = undefined;
    if (this.closed) return resolve?.();
    if (this.queued > 0) {
      const chunk = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queued);
      this.queue = [];
      this.queued = 0;
      this.controller.enqueue(chunk);
    }
    if (this.closing) {
      this.controller.close();
      this.finish(undefined);
    } else if (this.wantDrain) {
      this.wantDrain = false;
      this.events.onDrain();
    }
    resolve?.();
  }

  flush(): void {
    if (this.waiting && this.queued > 0) this.handOff();
  }

  close(graceful: boolean): void {
    if (this.closed || this.closing) return;
    if (!graceful) return this.abort(undefined);
    this.closing = true;
    stopTicking(this);
    // Ends now if a reader waits; otherwise when it next reads, or, as the
    // core does for a socket, errors after DRAIN_TIMEOUT_MS if nobody reads.
    if (this.waiting) this.handOff();
    if (!this.closed) {
      this.drainTimer = setTimeout(() => this.abort(new Error('close: the reader did not take the rest in time')), DRAIN_TIMEOUT_MS);
      this.drainTimer.unref?.();
    }
  }

  /**
   * Ends the stream now, dropping what is queued: with a reason it errors
   * the stream (the framework aborts the response), without one it closes it.
   */
  abort(reason: Error | undefined): void {
    if (this.closed) return;
    this.queue = [];
    this.queued = 0;
    try {
      if (reason) this.controller.error(reason);
      else this.controller.close();
    } catch {
      // Already closed or errored by the consumer.
    }
    this.finish(reason);
  }

  /**
   * The client is gone (the request's signal aborted): drops the queue and
   * ends the stream without an error, so the framework has nothing to log.
   */
  gone(): void {
    if (this.closed) return;
    this.queue = [];
    this.queued = 0;
    try {
      this.controller.close();
    } catch {
      // Already closed or errored by the consumer.
    }
    this.finish(new Error('client disconnected'));
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.queued;
  }

  private finish(reason: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = false;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.queue = [];
    this.queued = 0;
    stopTicking(this);
    const resolve = this.resolvePull;
    this.resolvePull = undefined;
    this.waiting = false;
    resolve?.();
    this.events.onClose(reason);
  }

  /** @internal The period this sink's timings need from the shared timer. */
  tickWanted(): number {
    const ms = [this.limits.heartbeatMs, this.limits.idleTimeoutMs, this.limits.maxDurationMs].filter((x) => x > 0);
    return ms.length === 0 ? 1000 : Math.min(1000, Math.floor(Math.min(...ms) / 2));
  }

  /** @internal Heartbeats and timeouts, from the shared timer. */
  tick(now: number): void {
    if (this.closed || this.closing) return;
    const { heartbeatMs, idleTimeoutMs, maxDurationMs } = this.limits;
    if (maxDurationMs > 0 && now - this.opened >= maxDurationMs) return this.close(true);
    if (idleTimeoutMs > 0 && now - this.lastEvent >= idleTimeoutMs) return this.close(true);
    if (heartbeatMs > 0 && now - this.lastWrite >= heartbeatMs && this.write(KEEPALIVE) !== SendResult.Closed) {
      jsSinkStats.heartbeats++;
    }
  }
}
