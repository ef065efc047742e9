// Fetch-style servers (Next.js App Router, Hono, any handler returning a
// Response): createSSEStream() with no request returns a ReadableStream fed
// with frames the core encoded, and sseResponse() wraps it in a Response.
import { argTypeError } from '../common/errors';
import { SSE_HEADERS } from '../common/headers';
import { registerConnection } from '../hub/hub';
import { limitError, overLimit, retryAfterSeconds } from '../hub/limits';
import type { EventMap, MessageOf } from '../native/encoder';
import { resolveOptions, type ResolvedOptions, type SSEStreamOptions } from '../stream/options';
import { WebSink } from '../stream/sinks/web';
import { usableLastEventId } from './last-event-id';
import { SSEStream } from '../stream/stream';

/** Options of the fetch-style createSSEStream(): those of every stream, plus the request. */
export interface WebSSEStreamOptions extends SSEStreamOptions {
  /**
   * The incoming Request, when there is one (Next.js and Hono pass it): its
   * `Last-Event-ID` header (or `lastEventId` query parameter) becomes
   * `sse.lastEventId`, and its `signal` aborting closes the stream.
   */
  request?: Request;
}

/** What the fetch-style createSSEStream() returns. */
export interface WebSSEStream<E extends EventMap = EventMap> {
  /** The response body: hand it to `new Response(stream)` or sseResponse(stream). */
  readonly stream: ReadableStream<Uint8Array>;
  /** Queues one event; false above the high-water mark (the reader is behind) or once closed. */
  send(msg: MessageOf<E>): boolean;
  /** Ends the stream once what is queued has been read. */
  close(): void;
  /** The SSEStream behind it: signal, 'close'/'drain', comment(), sendRaw(), hub registration. */
  readonly sse: SSEStream<E>;
}

// The status and headers given to createSSEStream(), for sseResponse().
const responseParts = new WeakMap<ReadableStream<Uint8Array>, { status: number; headers: ResolvedOptions['headers'] }>();

function requestLastEventId(request: Request | undefined): string | undefined {
  if (request === undefined) return undefined;
  let id: string | undefined = request.headers.get('last-event-id') ?? undefined;
  if (id === undefined) {
    try {
      id = new URL(request.url).searchParams.get('lastEventId') ?? undefined;
    } catch {
      id = undefined;
    }
  }
  return usableLastEventId(id);
}

/**
 * Starts an SSE stream for a fetch-style handler. Nothing is written until
 * the framework reads `stream`; sends before that are queued (send() returns
 * false past `highWaterMark`, and `maxBuffered` / `onSlowConsumer` bound the
 * queue). When the client goes away the framework cancels `stream`: then
 * `sse.signal` aborts and `sse` emits 'close'. The `status`
 * and `headers` options are kept for sseResponse(stream), which uses them
 * unless its own `init` says otherwise. TypeError for bad options, before
 * anything is created.
 */
export function createWebStream<E extends EventMap = EventMap>(options?: WebSSEStreamOptions): WebSSEStream<E> {
  const opts = resolveOptions(options, ['request']);
  const request = options?.request;
  if (request !== undefined && (typeof request !== 'object' || request === null || typeof request.headers?.get !== 'function')) {
    throw argTypeError('`request` must be a fetch Request: pass the Request your route handler received (createSSEStream({ request }))');
  }
  // The connection limits hold for web streams too (per process and per
  // key; the client address is not known here). Refused: the stream is
  // closed (closeReason.code 'SSE_LIMIT') and sseResponse() answers 503
  // with Retry-After.
  const over = overLimit(undefined, opts.keys);
  const sse = new SSEStream<E>(requestLastEventId(request), opts);
  const sink = new WebSink(sse);
  sse.attach(sink, 'web');
  if (over !== undefined) {
    const seconds = retryAfterSeconds();
    responseParts.set(sink.stream, {
      status: 503,
      headers: { 'Retry-After': String(seconds), 'Cache-Control': 'no-store' },
    });
    sse.closeNow(limitError(over));
    return { stream: sink.stream, send: (msg) => sse.send(msg), close: () => sse.close(), sse };
  }
  if (opts.status !== 200 || Object.keys(opts.headers).length > 0) {
    responseParts.set(sink.stream, { status: opts.status, headers: opts.headers });
  }
  if (opts.retry !== undefined) sse.write([undefined, undefined, undefined, opts.retry, undefined]);

  const signal = request?.signal;
  if (signal) {
    const onAbort = () => sse.gone();
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      sse.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  // Hub keys (the `key` option), as for request streams: a web stream is a core member too.
  for (const key of opts.keys) registerConnection(key, sse, { resume: opts.resume });
  return {
    stream: sink.stream,
    send: (msg) => sse.send(msg),
    close: () => sse.close(),
    sse,
  };
}


/**
 * A Response streaming `stream` (usually createSSEStream().stream) with the
 * SSE headers, then the `headers` and `status` given to createSSEStream(),
 * then `init`: each adds to or replaces the one before (Set-Cookie values are
 * appended). The status defaults to 200. Behind a server speaking HTTP/2 to
 * the client, delete `Connection` from `response.headers` (Node's http2
 * refuses connection-specific headers).
 */
export function sseResponse(stream: ReadableStream<Uint8Array>, init: ResponseInit = {}): Response {
  if (typeof (stream as { getReader?: unknown } | null)?.getReader !== 'function') throw argTypeError('sseResponse: `stream` must be a ReadableStream');
  const headers = new Headers(SSE_HEADERS);
  const put = (value: string, name: string) => {
    if (name.toLowerCase() === 'set-cookie') headers.append(name, value);
    else headers.set(name, value);
  };
  const parts = responseParts.get(stream);
  if (parts !== undefined) {
    for (const [name, value] of Object.entries(parts.headers)) {
      if (Array.isArray(value)) {
        headers.delete(name);
        for (const v of value as readonly string[]) headers.append(name, v);
      } else put(String(value), name);
    }
  }
  if (init.headers !== undefined) new Headers(init.headers).forEach(put);
  return new Response(stream, { ...init, status: init.status ?? parts?.status ?? 200, headers });
}
