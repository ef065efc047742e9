// createSSEStream(req, res): node:http, Express, Next.js pages, Fastify
// (`reply.raw`). Where it may (plain TCP, HTTP/1.x, a real fd) the core
// adopts the socket; elsewhere the same stream writes through res.write.
// Either way the stream is one core member from the start: sends made while
// a POST body is still read are queued in the core, and the member becomes
// a socket member (keeping its queue and hub keys) or gets the res.write
// sink once the body ended.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEError, argTypeError } from '../common/errors';
import { limitError, overLimit, retryAfterSeconds } from '../hub/limits';
import { registerConnection } from '../hub/hub';
import { native } from '../native/binding';
import type { EventMap } from '../native/encoder';
import { resolveOptions, type ResolvedOptions, type SSEStreamOptions } from '../stream/options';
import { ResponseSink } from '../stream/sinks/response';
import { SSEStream } from '../stream/stream';
import { adoptableFd, bodyPending, buildHead, responseHeaders, setResponseHeaders, wantsClose, type Head, type Req, type Res } from './adopt';
import { handOver } from './node-semantics';
import { usableLastEventId } from './last-event-id';
import { createWebStream, type WebSSEStream, type WebSSEStreamOptions } from './web';

/** Marks a response a stream was created on (and whose socket the core may have adopted). */
export const kAdopted = Symbol.for('sse-native.adopted');


/** The client's Last-Event-ID: header, else `?lastEventId=`; empty or oversized means none. */
export function requestLastEventId(header: unknown, url: string | undefined): string | undefined {
  let id: string | undefined;
  if (typeof header === 'string') {
    id = header;
  } else if (url !== undefined) {
    const q = url.indexOf('?');
    if (q >= 0) id = new URLSearchParams(url.slice(q + 1)).get('lastEventId') ?? undefined;
  }
  return usableLastEventId(id);
}

function isRequest(x: unknown): x is Req {
  return typeof x === 'object' && x !== null && 'headers' in x && 'method' in x;
}
function isResponse(x: unknown): x is Res {
  return typeof x === 'object' && x !== null && typeof (x as ServerResponse).write === 'function' && typeof (x as ServerResponse).setHeader === 'function';
}

/**
 * Starts an SSE response on a node:http / Express / Next.js pages / Fastify
 * (`reply.raw`) request. Where it may (plain TCP, HTTP/1.x, a real fd) the
 * C++ core adopts the socket: from then on Node's server no longer knows the
 * connection, and the stream's own `signal` and 'close' event tell when the
 * client leaves. Elsewhere the same stream writes through res.write. Bad
 * options or headers: a TypeError (with a `code`) before anything is
 * written; a second stream on one response: SSEError SSE_ALREADY_STREAMING.
 */
export function createSSEStream<E extends EventMap = EventMap>(options?: WebSSEStreamOptions): WebSSEStream<E>;
export function createSSEStream<E extends EventMap = EventMap>(req: Req, res: Res, options?: SSEStreamOptions): SSEStream<E>;
export function createSSEStream(req?: Req | SSEStreamOptions, res?: Res, options?: SSEStreamOptions): SSEStream | WebSSEStream {
  if (res === undefined && !isRequest(req)) return createWebStream(req as WebSSEStreamOptions | undefined);
  if (!isRequest(req)) throw argTypeError('createSSEStream: `req` must be an http.IncomingMessage');
  if (!isResponse(res)) throw argTypeError('createSSEStream: `res` must be an http.ServerResponse');
  const opts = resolveOptions(options);
  const marked = res as unknown as Record<symbol, unknown>;
  if (marked[kAdopted] !== undefined) {
    throw new SSEError('SSE_ALREADY_STREAMING', 'createSSEStream: this response already has an SSE stream; keep the first one (call createSSEStream once per request)');
  }
  if (res.headersSent) {
    throw new SSEError('SSE_ALREADY_STREAMING', 'createSSEStream: the response headers were already sent; create the stream before writing anything to `res`');
  }
  // A request pipelined behind one whose socket the core adopted (or whose
  // client already left) has no connection to answer on: its stream is
  // closed at once and counts against no limit.
  const socket = (req as IncomingMessage).socket as (IncomingMessage['socket'] & { destroyed?: boolean }) | null;
  if (req.httpVersionMajor === 1 && (socket === null || socket.destroyed)) {
    marked[kAdopted] = true;
    const gone = new SSEStream(undefined, opts);
    gone.closeNow(new SSEError('SSE_CLIENT_GONE', 'the connection is gone (a request pipelined behind an SSE stream, or the client left)'));
    return gone;
  }
  const closing = wantsClose(req);
  // Validated before anything counts or is written: both sinks refuse the
  // same headers.
  const fdOrReason = opts.adopt ? adoptableFd(req, res) : 'adopt: false';
  const head = typeof fdOrReason === 'number' ? buildHead(res, opts, closing) : undefined;
  if (head === undefined) responseHeaders(res, opts, req.httpVersionMajor === 2, closing);
  const address = (req as IncomingMessage).socket?.remoteAddress;
  const over = overLimit(address, opts.keys);
  if (over !== undefined) return refuse(req, res, over, opts);

  const lastEventId = requestLastEventId(req.headers['last-event-id'], req.url);
  const stream = new SSEStream(lastEventId, opts, address);
  marked[kAdopted] = stream;

  if (head !== undefined) {
    if (bodyPending(req)) {
      // A POST stream: adopt once Node has read the whole body. Closed
      // before that (close(), closeAll()), it answers through res.write:
      // what was queued, then the end; Node discards the rest of the body.
      const r = req as IncomingMessage;
      const onEnd = () => {
        r.off('close', onGone);
        adoptOrFallBack(req, res, stream, head, opts);
      };
      const onGone = () => {
        r.off('end', onEnd);
        if (!r.complete) stream.gone();
      };
      stream.holdUntilAttached(() => {
        r.off('end', onEnd);
        r.off('close', onGone);
        fallBack(req, res, stream, opts);
      });
      r.once('end', onEnd);
      r.once('close', onGone);
      if (r.listenerCount('data') === 0 && !r.readableFlowing) r.resume();
    } else {
      adoptOrFallBack(req, res, stream, head, opts);
    }
  } else {
    fallBack(req, res, stream, opts);
  }
  if (opts.retry !== undefined) stream.write([undefined, undefined, undefined, opts.retry, undefined]);
  for (const key of opts.keys) registerConnection(key, stream, { resume: opts.resume });
  return stream;
}

/** Answers 503 with Retry-After; the stream returned is closed (closeReason.code 'SSE_LIMIT'). */
function refuse(req: Req, res: Res, limit: string, opts: ResolvedOptions): SSEStream {
  const seconds = retryAfterSeconds();
  const r = res as ServerResponse;
  r.writeHead(503, { 'Retry-After': String(seconds), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  r.end(`Too many connections (${limit}); retry in ${seconds} s\n`);
  const stream = new SSEStream(requestLastEventId(req.headers['last-event-id'], req.url), opts);
  stream.closeNow(limitError(limit));
  return stream;
}

function adoptOrFallBack(req: Req, res: Res, stream: SSEStream, head: Head, opts: ResolvedOptions): void {
  if (stream.closed) return;
  const fd = adoptableFd(req, res);
  if (typeof fd === 'number' && native.adoptSocket(stream.memberId, fd, head.bytes) === 0) {
    // Destroys Node's socket object; req/res keep node:http's meaning.
    handOver(req as IncomingMessage, res as ServerResponse, stream, opts.status, head.names, head.values);
    stream.adopted();
    return;
  }
  fallBack(req, res, stream, opts);
}

function fallBack(req: Req, res: Res, stream: SSEStream, opts: ResolvedOptions): void {
  if (stream.closed) return;
  const http2 = req.httpVersionMajor === 2;
  const closing = wantsClose(req);
  const [names, values] = responseHeaders(res, opts, http2, closing);
  // Node itself ends the connection with the response and says so.
  setResponseHeaders(res, names, values, (lower) => closing && lower === 'connection');
  (res as ServerResponse).writeHead(opts.status);
  (res as ServerResponse).flushHeaders();
  (req as IncomingMessage).socket?.setNoDelay?.(true);
  stream.attach(new ResponseSink(res, stream), 'response');
}
