// sse-native/hono: streamSSE(c, async (stream) => ...) for Hono (or any
// handler holding a fetch Request), shaped like Hono's own streamSSE from
// 'hono/streaming', over sse-native's web stream. Public API only:
// createSSEStream() and sseResponse().
import type { SSEMessage } from '../native/encoder';
import type { WebSSEStreamOptions } from './web';
import { sseResponse } from './web';
import type { SSEStream } from '../stream/stream';
import { createSSEStream } from './node';

/** What streamSSE needs of Hono's Context: the incoming Request. */
export interface ContextLike {
  req: { raw: Request };
}

/** The writer handed to the streamSSE callback. */
export interface SSEWriter {
  /** Queues one event; resolves at once, or once the reader has caught up when more than `highWaterMark` bytes wait. Resolves (nothing sent) once closed. */
  writeSSE(msg: SSEMessage): Promise<void>;
  /** Queues one event; false above the high-water mark or once closed (see SSEStream.send). */
  send(msg: SSEMessage): boolean;
  /** A `: text` comment line. */
  comment(text: string): boolean;
  /** Waits `ms`, or less if the client leaves first. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` once when the client leaves (at once if it already has). */
  onAbort(fn: () => void): void;
  /** True once the client left or the stream closed. */
  readonly aborted: boolean;
  /** Ends the stream once what is queued has been read. */
  close(): void;
  /** The SSEStream behind it (signal, 'drain', 'close', hub registration). */
  readonly stream: SSEStream;
}

/** Options of streamSSE: those of createSSEStream(), plus onError. */
export interface StreamSSEOptions extends Omit<WebSSEStreamOptions, 'request'> {
  /** Called when the callback throws, before the stream closes; it may still write (e.g. an `error` event). @defaultValue console.error */
  onError?: (err: unknown, stream: SSEWriter) => void | Promise<void>;
}

function writer(stream: SSEStream): SSEWriter {
  const w: SSEWriter = {
    async writeSSE(msg) {
      if (stream.send(msg) || stream.closed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
    },
    send: (msg) => stream.send(msg),
    comment: (text) => stream.comment(text),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (stream.signal.aborted) return resolve();
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          stream.signal.removeEventListener('abort', done);
          resolve();
        }
        stream.signal.addEventListener('abort', done, { once: true });
      }),
    onAbort(fn) {
      if (stream.signal.aborted) fn();
      else stream.signal.addEventListener('abort', () => fn(), { once: true });
    },
    get aborted() {
      return stream.signal.aborted;
    },
    close: () => stream.close(),
    stream,
  };
  return w;
}

/**
 * Returns the SSE Response for a Hono route at once and runs `cb` with a
 * writer: `app.get('/events', (c) => streamSSE(c, async (stream) => { ... }))`.
 * The stream ends when `cb` settles (as with Hono's streamSSE), so a
 * long-lived stream loops until `stream.aborted`. The client leaving aborts
 * `stream.stream.signal`; Last-Event-ID is `stream.stream.lastEventId`.
 * `allowOrigins` and a synchronous `authorize(request)` apply (a refused
 * request gets its 403/401 and `cb` is not called); for an async check use
 * Hono middleware before the route.
 */
export function streamSSE(c: ContextLike, cb: (stream: SSEWriter) => Promise<void> | void, options: StreamSSEOptions = {}): Response {
  const request = c?.req?.raw;
  if (request === undefined || typeof request.headers?.get !== 'function') {
    throw new TypeError("streamSSE(c, cb): `c` must be Hono's Context (c.req.raw is the Request)");
  }
  if (typeof cb !== 'function') throw new TypeError('streamSSE(c, cb): `cb` must be an async function (stream) => ...');
  const { onError, ...streamOptions } = options;
  const { stream, sse } = createSSEStream({ ...streamOptions, request });
  // Refused by authorize or allowOrigins: the 401/403 response, and cb is not called.
  const code = (sse.closeReason as { code?: string } | undefined)?.code;
  if (code === 'SSE_UNAUTHORIZED' || code === 'SSE_FORBIDDEN') return sseResponse(stream);
  const w = writer(sse);
  void (async () => {
    try {
      await cb(w);
    } catch (err) {
      if (onError) await Promise.resolve(onError(err, w)).catch((e: unknown) => console.error('sse-native/hono: onError threw', e));
      else console.error('sse-native/hono: the streamSSE callback threw; pass `onError` in the options to handle it:', err);
    } finally {
      sse.close();
    }
  })();
  return sseResponse(stream);
}

export type { SSEMessage, SSEStream };
