// createSSEStream(req, res): node:http, Express, Next.js pages, Fastify
// (`reply.raw`). Where it may (plain TCP, HTTP/1.x, a real fd) the core
// adopts the socket; elsewhere the same stream writes through res.write.
// Either way the stream is one core member from the start: sends made while
// a POST body is still read are queued in the core, and the member becomes
// a socket member (keeping its queue and hub keys) or gets the res.write
// sink once the body ended.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEError, argTypeError } from '../common/errors';
import { refusalError } from '../hub/limits';
import { registerConnection } from '../hub/hub';
import { backend, native } from '../native/binding';
import type { EventMap } from '../native/encoder';
import { resolveOptions, type ResolvedOptions, type SSEStreamOptions } from '../stream/options';
import { askAuthorize, isRefusal, originHeaders, type Refusal } from '../stream/access';
import { ResponseSink } from '../stream/sinks/response';
import { SSEStream } from '../stream/stream';
import { adoptableFd, bodyPending, buildHead, responseHeaders, setResponseHeaders, wantsClose, type Head, type Req, type Res } from './adopt';
import { handOver } from './node-semantics';
import { usableLastEventId } from './last-event-id';
import { admit } from './admit';
import { acceptWebStream, createWebStream, type WebSSEStream, type WebSSEStreamOptions } from './web';

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
export function createSSEStream(req?: Req | SSEStreamOptions | WebSSEStreamOptions, res?: Res, options?: SSEStreamOptions): SSEStream | WebSSEStream {
  if (res === undefined && !isRequest(req)) return createWebStream(req as WebSSEStreamOptions | undefined);
  return openStream(req as Req, res as Res, checkArgs(req, res, options), undefined);
}

/**
 * createSSEStream() for an `authorize` that answers asynchronously (a
 * session store, a token introspection): the same arguments, the same
 * stream, once authorize settled. Nothing counts against a limit and
 * nothing is written before; a refused request gets its 401/403 and the
 * stream is returned closed (closeReason.code SSE_UNAUTHORIZED or
 * SSE_FORBIDDEN). An Origin not allowed is refused without calling
 * authorize. Rejects (nothing written) for bad arguments, like
 * createSSEStream throws.
 */
export function acceptSSEStream<E extends EventMap = EventMap>(options?: WebSSEStreamOptions): Promise<WebSSEStream<E>>;
export function acceptSSEStream<E extends EventMap = EventMap>(req: Req, res: Res, options?: SSEStreamOptions): Promise<SSEStream<E>>;
export async function acceptSSEStream(req?: Req | SSEStreamOptions | WebSSEStreamOptions, res?: Res, options?: SSEStreamOptions): Promise<SSEStream | WebSSEStream> {
  if (res === undefined && !isRequest(req)) return acceptWebStream(req as WebSSEStreamOptions | undefined);
  const opts = checkArgs(req, res, options);
  const r = req as Req;
  let asked: Refusal | null | undefined;
  if (opts.authorize !== undefined && !isRefusal(originOf(r, opts))) asked = await askAuthorize(opts.authorize, r);
  return openStream(r, res as Res, opts, asked);
}

function checkArgs(req: unknown, res: unknown, options: SSEStreamOptions | undefined): ResolvedOptions {
  if (!isRequest(req)) throw argTypeError('createSSEStream: `req` must be an http.IncomingMessage');
  if (!isResponse(res)) throw argTypeError('createSSEStream: `res` must be an http.ServerResponse');
  return resolveOptions(options);
}

function originOf(req: Req, opts: ResolvedOptions): Record<string, string> | Refusal | undefined {
  if (opts.origins === undefined) return undefined;
  const o = req.headers.origin;
  return originHeaders(typeof o === 'string' ? o : undefined, opts.origins, opts.credentials);
}

// `asked`: authorize's answer when acceptSSEStream awaited it (null: let
// in); undefined: not asked yet (it is asked here, synchronously).
function openStream(req: Req, res: Res, opts: ResolvedOptions, asked: Refusal | null | undefined): SSEStream {
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
  // Who may open a stream, before anything counts or is written (admit.ts).
  const admitted = admit(opts, {
    origin: typeof req.headers.origin === 'string' ? req.headers.origin : undefined,
    peer: (req as IncomingMessage).socket?.remoteAddress,
    forwardedFor: req.headers['x-forwarded-for'],
    request: req,
    asked,
    instead: '`await acceptSSEStream(...)` with the same arguments (the sse() helper of sse-native/express awaits it)',
  }, (cors): Head | undefined => {
    if (cors !== undefined) for (const [name, value] of Object.entries(cors)) setCorsHeader(res, name, value);
    const closing = wantsClose(req);
    // Validated before anything counts or is written: both sinks refuse the
    // same headers.
    const fdOrReason = !opts.adopt ? 'adopt: false' : backend === 'js' ? 'the TypeScript backend' : adoptableFd(req, res);
    if (typeof fdOrReason === 'number') return buildHead(res, opts, closing);
    responseHeaders(res, opts, req.httpVersionMajor === 2, closing);
    return undefined;
  });
  if ('refusal' in admitted) return refuse(req, res, admitted.refusal);
  const { address, prepared: head } = admitted;

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

/** Answers the refusal (plain text, no-store); the stream returned is closed with its closeReason. */
function refuse(req: Req, res: Res, refusal: Refusal): SSEStream {
  (res as unknown as Record<symbol, unknown>)[kAdopted] = true;
  const r = res as ServerResponse;
  r.writeHead(refusal.status, { ...refusal.headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  r.end(`${refusal.message}\n`);
  const stream = new SSEStream(requestLastEventId(req.headers['last-event-id'], req.url), null);
  stream.closeNow(refusalError(refusal));
  return stream;
}

// CORS headers on the stream's response; Vary adds to the app's.
function setCorsHeader(res: Res, name: string, value: string): void {
  if (name === 'Vary') {
    const had = res.getHeader('Vary');
    const list = had === undefined ? [] : String(had).split(',').map((v) => v.trim());
    if (list.some((v) => v.toLowerCase() === 'origin' || v === '*')) return;
    value = [...list.filter((v) => v !== ''), value].join(', ');
  }
  res.setHeader(name, value);
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
