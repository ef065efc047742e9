// One interface for every place an SSEStream can write to: a socket adopted
// by the core, a node:http response (fallback), a web ReadableStream.
import type { MessageArgs } from '../../native/encoder';

/** What a write did; the same codes as the core's SendResult. */
export const enum SendResult {
  Success = 0,
  Backpressure = 1,
  Dropped = 2,
  Closed = 3,
}

/** Told by a sink when the client side changes; set once by the stream. */
export interface SinkEvents {
  /** The buffer fell back under the high-water mark after a Backpressure. */
  onDrain(): void;
  /** The connection is gone (exactly once); `reason` is undefined after a normal close(). */
  onClose(reason: Error | undefined): void;
}

export interface Sink {
  /** 'adopted' (the core owns the socket), 'response' (res.write) or 'web'. */
  readonly kind: 'adopted' | 'response' | 'web';
  /** Validated message fields (messageArgs); TypeError for CR/LF/NUL in `event` or `id`. */
  send(args: MessageArgs): SendResult;
  /** Already-framed bytes (encoded by the core). */
  sendBytes(bytes: Uint8Array): SendResult;
  flush(): void;
  /** graceful: write what is queued, then end; otherwise drop it and end now. */
  close(graceful: boolean): void;
  bufferedAmount(): number;
}

/** Limits and timings every sink applies the same way. */
export interface SinkLimits {
  highWaterMark: number;
  maxBuffered: number;
  onSlowConsumer: 'close' | 'drop';
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxDurationMs: number;
}

/** Counters of the sinks written from JS (fallback, web), for getMetrics(). */
export const jsSinkStats = {
  eventsSent: 0,
  bytesSent: 0,
  drops: 0,
  slowConsumerCloses: 0,
  heartbeats: 0,
};
