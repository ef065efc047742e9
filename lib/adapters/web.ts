// Fetch-style servers (Next.js App Router, Hono, any handler returning a
// Response): createSSEStream() with no request returns a ReadableStream fed
// with frames the core encoded, and sseResponse() wraps it in a Response.
import { argTypeError } from '../common/errors';
import { SSE_HEADERS } from '../common/headers';
import { registerConnection } from '../hub/hub';
import { refusalError } from '../hub/limits';
import { askAuthorize, isRefusal, originHeaders, type AuthorizeResult, type Refusal } from '../stream/access';
import type { EventMap, MessageOf } from '../native/encoder';
import { resolveOptions, type ResolvedOptions, type SSEStreamOptions } from '../stream/options';
import { WebSink } from '../stream/sinks/web';
import { admit } from './admit';
import { usableLastEventId } from './last-event-id';
import { SSEStream } from '../stream/stream';

/** Options of the fetch-style createSSEStream(): those of every stream, plus the request. */
export interface WebSSEStreamOptions extends Omit<SSEStreamOptions, 'authorize'> {
  /**
   * As for node:http streams, given the `request` (which it needs):
   * `true` lets it in, `false` answers 401, `{ status, headers?, message? }`
   * that 4xx, a throw 403. Async: use `await acceptSSEStream({ request, authorize })`.
   */
  authorize?: (request: Request) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * The client's address as the server sees the connection (the peer; a
   * fetch Request does not carry it), for maxConnectionsPerAddress and
   * connectRatePerAddress; with `trustProxy`, X-Forwarded-For from the
   * `request` is believed when this peer is trusted. Hono on Node:
   * `c.env.incoming.socket.remoteAddress`.
   */
  address?: string;
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
  const [opts, request] = checkWebOptions(options);
  return openWebStream<E>(opts, request, options?.address, undefined);
}

/** @internal acceptSSEStream({ request, ... }): createSSEStream() once an async `authorize` settled. */
export async function acceptWebStream<E extends EventMap = EventMap>(options?: WebSSEStreamOptions): Promise<WebSSEStream<E>> {
  const [opts, request] = checkWebOptions(options);
  let asked: Refusal | null | undefined;
  if (opts.authorize !== undefined && !isRefusal(webOrigin(opts, request))) {
    asked = await askAuthorize(opts.authorize, request);
  }
  return openWebStream<E>(opts, request, options?.address, asked);
}

function checkWebOptions(options: WebSSEStreamOptions | undefined): [ResolvedOptions, Request | undefined] {
  const opts = resolveOptions(options as SSEStreamOptions | undefined, ['request', 'address']);
  const request = options?.request;
  if (request !== undefined && (typeof request !== 'object' || request === null || typeof request.headers?.get !== 'function')) {
    throw argTypeError('`request` must be a fetch Request: pass the Request your route handler received (createSSEStream({ request }))');
  }
  const address = options?.address;
  if (address !== undefined && typeof address !== 'string') throw argTypeError(`\`address\` must be a string (the client's IP address), got ${typeof address}`);
  if (opts.authorize !== undefined && request === undefined) {
    throw argTypeError('`authorize` needs the `request` option (the fetch Request it decides on)');
  }
  return [opts, request];
}

function webOrigin(opts: ResolvedOptions, request: Request | undefined): Record<string, string> | Refusal | undefined {
  if (opts.origins === undefined) return undefined;
  return originHeaders(request?.headers.get('origin') ?? undefined, opts.origins, opts.credentials);
}

function openWebStream<E extends EventMap>(opts: ResolvedOptions, request: Request | undefined, peer: string | undefined, asked: Refusal | null | undefined): WebSSEStream<E> {
  // Who may open a stream, before anything counts: the Origin, authorize,
  // then the connect rate and the connection limits (per process, per key,
  // per address when `address` is given). Refused: the stream is closed
  // (closeReason.code SSE_FORBIDDEN, SSE_UNAUTHORIZED or SSE_LIMIT) and
  // sseResponse() answers with the refusal's status (403, 401, 429, 503)
  // and headers (Retry-After), with an empty body.
  const admitted = admit(opts, {
    origin: request?.headers.get('origin') ?? undefined,
    peer,
    forwardedFor: request?.headers.get('x-forwarded-for'),
    request,
    asked,
    instead: '`await acceptSSEStream({ request, ... })` with the same options',
  });
  const refusal = 'refusal' in admitted ? admitted.refusal : undefined;
  const cors = 'refusal' in admitted ? undefined : admitted.cors;
  const address = 'refusal' in admitted ? undefined : admitted.address;
  const sse = new SSEStream<E>(requestLastEventId(request), refusal === undefined ? opts : null, address);
  const sink = new WebSink(sse);
  sse.attach(sink, 'web');
  if (refusal !== undefined) {
    responseParts.set(sink.stream, { status: refusal.status, headers: { 'Cache-Control': 'no-store', ...refusal.headers } });
    const err = refusalError(refusal);
    // The refusal's body is empty, not an error the framework would log.
    sink.end(undefined);
    sse.closeNow(err);
    return { stream: sink.stream, send: (msg) => sse.send(msg), close: () => sse.close(), sse };
  }
  if (cors !== undefined) opts = { ...opts, headers: { ...cors, ...opts.headers } };
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
