// SSEStream: one Server-Sent Events response, whatever it writes to.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeArgs, messageArgs, type MessageArgs, type SSEMessage } from '../native/encoder';
import { adoptableFd, bodyPending, buildHead, responseHeaders, type Req, type Res } from '../adapters/adopt';
import { resolveOptions, type ResolvedOptions, type SSEStreamOptions } from './options';
import { NativeSink, closeAllAdopted } from './sinks/native-sink';
import { ResponseSink } from './sinks/response-sink';
import { SendResult, type Sink, type SinkEvents } from './sinks/sink';
import { createWebStream, type WebSSEStream, type WebSSEStreamOptions } from '../adapters/web';
import { countRefused, getConnectionCount, leaveHub, registerConnection } from '../hub/hub';
import { holdAddress, overLimit, releaseAddress, retryAfterSeconds } from '../hub/limits';
import { pipe, type PipeOptions, type PipeResult } from './pipe';
import { forward, type ForwardOptions, type ForwardResult, type Upstream } from './forward';
import type { StreamSource } from './source';

const open = new Set<SSEStream>();

/** Marks a response whose socket the core adopted: Node no longer owns it. */
export const kAdopted = Symbol.for('sse-native.adopted');

/**
 * A live SSE response. Events: 'close' (once, when the client left or the
 * stream closed; `signal` is aborted first) and 'drain' (send() may be
 * called again after it returned false).
 */
export class SSEStream extends EventEmitter implements SinkEvents {
  /** The Last-Event-ID the client sent (header, or the `lastEventId` query parameter). */
  readonly lastEventId: string | undefined;
  /** Why the stream closed: undefined after close(), an Error when the client left or a limit closed it. */
  closeReason: Error | undefined;

  // Made on first use: an AbortSignal costs about 800 bytes of heap, which
  // an idle stream whose handler never asked for it should not pay.
  private controller: AbortController | undefined;
  private sink: Sink | undefined;
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private closeRequested = false;
  private isClosed = false;
  private rawDecoder: TextDecoder | undefined;
  private startNow: (() => void) | undefined;
  /** @internal The client address this stream counts against (connection limits). */
  heldAddress: string | undefined;
  /** @internal The hub keys this stream is in (lib/hub.ts). */
  hubKeys: string[] | undefined;

  /** @internal Use createSSEStream(). */
  constructor(lastEventId: string | undefined, private readonly opts: ResolvedOptions) {
    super();
    this.lastEventId = lastEventId;
    open.add(this);
  }

  /** Aborted when the client goes away or the stream closes: stop generating then. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.isClosed) this.controller.abort(this.closeReason ?? new Error('stream closed'));
    }
    return this.controller.signal;
  }

  /** @internal False once close() was called or the stream closed: sends are refused. */
  get accepting(): boolean {
    return !this.isClosed && !this.closeRequested;
  }

  /** @internal The sink written to, once attached. */
  currentSink(): Sink | undefined {
    return this.sink;
  }

  /** @internal Sends an already-encoded frame (hub broadcasts and replays); returns like send(). */
  sendFrame(frame: Buffer): boolean {
    if (this.isClosed || this.closeRequested) return false;
    if (this.sink === undefined) return this.hold(frame);
    return this.sink.sendBytes(frame) === SendResult.Success;
  }

  /** 'adopted' when the C++ core owns the socket, 'response' for res.write, 'pending' while a request body is read. */
  get sinkKind(): 'adopted' | 'response' | 'web' | 'pending' {
    return this.sink?.kind ?? 'pending';
  }

  /** True once the stream is closed or the client has gone. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get bufferedAmount(): number {
    return this.sink ? this.sink.bufferedAmount() : this.pendingBytes;
  }

  /**
   * Queues one event. Returns true if it was queued below the high-water
   * mark; false above it (wait for 'drain'), when it was dropped by the
   * 'drop' policy, or when the stream is closed (then nothing throws).
   * Throws a TypeError naming a bad field; nothing is sent then.
   */
  send(msg: SSEMessage): boolean {
    if (this.isClosed || this.closeRequested) return false;
    return this.write(messageArgs(msg));
  }

  /** Sends a comment line (`: text`), which clients ignore. */
  comment(text: string): boolean {
    if (typeof text !== 'string') throw new TypeError(`comment: text must be a string, got ${typeof text}`);
    if (this.isClosed || this.closeRequested) return false;
    return this.write([undefined, undefined, undefined, undefined, text]);
  }

  /**
   * Sends model output bytes as one event's data. An incomplete multi-byte
   * UTF-8 sequence at the end is held back and completed by the next call
   * (invalid bytes become U+FFFD), so what leaves is always valid UTF-8.
   * Returns like send(); true without sending when only held-back bytes remain.
   */
  sendRaw(bytes: Uint8Array, fields: { event?: string; id?: string | number } = {}): boolean {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`sendRaw: bytes must be a Uint8Array, got ${typeof bytes}`);
    if (this.isClosed || this.closeRequested) return false;
    this.rawDecoder ??= new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    const text = this.rawDecoder.decode(bytes, { stream: true });
    if (text === '') return true;
    return this.write(messageArgs({ ...fields, data: text }));
  }

  /** Sends each item of `source` as an event until it ends or the client leaves; see pipe() in ./pipe.ts. */
  pipe<T>(source: StreamSource<T>, options?: PipeOptions<T>): Promise<PipeResult> { return pipe(this, source, options); }

  /** Proxies an upstream event stream (a fetch Response) to this client; see forward() in ./forward.ts. */
  forward(upstream: Upstream, options?: ForwardOptions): Promise<ForwardResult> { return forward(this, upstream, options); }

  /** Writes what is queued now rather than when the loop turns. */
  flush(): void {
    this.sink?.flush();
  }

  /** Flushes what is queued, then ends the response. Harmless when already closed. */
  close(): void {
    if (this.isClosed || this.closeRequested) return;
    this.closeRequested = true;
    if (this.sink) this.sink.close(true);
    else if (this.startNow) this.startNow();
  }

  /** @internal */
  write(args: MessageArgs): boolean {
    if (this.sink === undefined) return this.hold(encodeArgs(args));
    return this.sink.send(args) === SendResult.Success;
  }

  private hold(frame: Buffer): boolean {
    if (this.pendingBytes + frame.length > this.opts.maxBuffered) {
      if (this.opts.onSlowConsumer === 'close') this.finish(new Error('slow consumer: maxBuffered exceeded'));
      return false;
    }
    this.pending!.push(frame);
    this.pendingBytes += frame.length;
    return this.pendingBytes <= this.opts.highWaterMark;
  }

  /**
   * @internal Sends are queued until attach() while a request body is read.
   * `startNow` attaches a sink at once (close() before the body ended).
   */
  holdUntilAttached(startNow: () => void): void {
    this.pending = [];
    this.startNow = startNow;
  }

  /** @internal Connects the sink and replays what was queued before it existed. */
  attach(sink: Sink): void {
    this.sink = sink;
    this.startNow = undefined;
    const queued = this.pending;
    this.pending = undefined;
    this.pendingBytes = 0;
    if (queued) for (const frame of queued) sink.sendBytes(frame);
    if (this.closeRequested) sink.close(true);
  }

  /** @internal The sink's events: the stream itself (no closures per stream). */
  sinkEvents(): SinkEvents {
    return this;
  }

  /** @internal SinkEvents: the buffer fell back under the high-water mark. */
  onDrain(): void {
    if (!this.isClosed) this.emit('drain');
  }

  /** @internal SinkEvents: the connection is gone. */
  onClose(reason: Error | undefined): void {
    this.finish(reason);
  }

  /** @internal Closes without a sink (the client left before adoption). */
  finish(reason: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    this.pending = undefined;
    this.startNow = undefined;
    open.delete(this);
    if (this.heldAddress !== undefined) releaseAddress(this.heldAddress);
    if (this.hubKeys !== undefined) leaveHub(this);
    this.controller?.abort(reason ?? new Error('stream closed'));
    this.emit('close');
  }
}

function queryLastEventId(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const v = new URLSearchParams(url.slice(q + 1)).get('lastEventId');
  return v ?? undefined;
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
 * connection, `req`/`res` emit 'close' at once, and the stream's own
 * `signal` and 'close' event tell when the client leaves. Elsewhere the same
 * stream writes through res.write. Bad options or headers: a TypeError
 * before anything is written.
 */
export function createSSEStream(options?: WebSSEStreamOptions): WebSSEStream;
export function createSSEStream(req: Req, res: Res, options?: SSEStreamOptions): SSEStream;
export function createSSEStream(req?: Req | SSEStreamOptions, res?: Res, options?: SSEStreamOptions): SSEStream | WebSSEStream {
  if (res === undefined && !isRequest(req)) return createWebStream(req as WebSSEStreamOptions | undefined);
  if (!isRequest(req)) throw new TypeError('createSSEStream: `req` must be an http.IncomingMessage');
  if (!isResponse(res)) throw new TypeError('createSSEStream: `res` must be an http.ServerResponse');
  const opts = resolveOptions(options);
  if (res.headersSent) throw new Error('createSSEStream: the response headers were already sent');
  const over = overLimit(open.size, (req as IncomingMessage).socket?.remoteAddress, opts.keys.map((k) => getConnectionCount(k)));
  if (over !== undefined) return refuse(req, res, over, opts);

  const fdOrReason = opts.adopt ? adoptableFd(req, res) : 'adopt: false';
  const head = typeof fdOrReason === 'number' ? buildHead(res, opts) : undefined;
  const headerId = req.headers['last-event-id'];
  const lastEventId = typeof headerId === 'string' ? headerId : queryLastEventId(req.url);
  const stream = new SSEStream(lastEventId, opts);

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
        if (!r.complete) stream.finish(new Error('client disconnected'));
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
  const address = (req as IncomingMessage).socket?.remoteAddress;
  if (address !== undefined && !stream.closed) {
    holdAddress(address);
    stream.heldAddress = address;
  }
  for (const key of opts.keys) registerConnection(key, stream, { resume: opts.resume });
  return stream;
}

/** Answers 503 with Retry-After; the stream returned is closed (closeReason.code 'SSE_LIMIT'). */
function refuse(req: Req, res: Res, limit: string, opts: ResolvedOptions): SSEStream {
  countRefused();
  const seconds = retryAfterSeconds();
  const r = res as ServerResponse;
  r.writeHead(503, { 'Retry-After': String(seconds), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  r.end(`Too many connections (${limit}); retry in ${seconds} s\n`);
  const headerId = req.headers['last-event-id'];
  const stream = new SSEStream(typeof headerId === 'string' ? headerId : undefined, opts);
  const err = new Error(`connection refused: ${limit} reached`) as NodeJS.ErrnoException;
  err.code = 'SSE_LIMIT';
  stream.finish(err);
  return stream;
}

function adoptOrFallBack(req: Req, res: Res, stream: SSEStream, head: Buffer, opts: ResolvedOptions): void {
  if (stream.closed) return;
  const fd = adoptableFd(req, res);
  if (typeof fd === 'number') {
    const sink = NativeSink.adopt(fd, head, opts, stream.sinkEvents());
    if (!(sink instanceof Error)) {
      (res as unknown as Record<symbol, unknown>)[kAdopted] = stream;
      // Never end(): that would send a FIN on the shared socket. destroy()
      // closes only Node's fd; the core holds a duplicate.
      (req as IncomingMessage).socket.destroy();
      stream.attach(sink);
      return;
    }
  }
  fallBack(req, res, stream, opts);
}

function fallBack(req: Req, res: Res, stream: SSEStream, opts: ResolvedOptions): void {
  if (stream.closed) return;
  const http2 = req.httpVersionMajor === 2;
  const [names, values] = responseHeaders(res, opts, http2);
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  // A client that asked for `Connection: close` gets it: Node then ends the
  // connection with the response instead of keeping it alive.
  const wantsClose = !http2 && /(^|,)\s*close\s*(,|$)/i.test(String(req.headers.connection ?? ''));
  const headers: Record<string, string[]> = {};
  names.forEach((n, i) => {
    if (wantsClose && n.toLowerCase() === 'connection') return;
    (headers[n] ??= []).push(values[i]);
  });
  (res as ServerResponse).writeHead(opts.status, headers);
  (res as ServerResponse).flushHeaders();
  (req as IncomingMessage).socket?.setNoDelay?.(true);
  stream.attach(new ResponseSink(res, opts, stream.sinkEvents()));
}

/**
 * Closes every open stream of this thread: sends `finalMsg` (if given) to
 * each, flushes what is queued, ends each response; with nothing else
 * holding it, the process can then exit. Node's server.close() does not
 * wait for adopted streams (Node no longer knows them); call this on
 * shutdown.
 */
export function closeAll(finalMsg?: SSEMessage): void {
  // Checked first: a bad final message throws before anything is sent.
  const last = finalMsg === undefined ? undefined : messageArgs(finalMsg);
  for (const s of [...open]) {
    if (last) s.write(last);
    s.close();
  }
  closeAllAdopted(true);
}

/** Streams of this thread that are open. */
export function openStreamCount(): number {
  return open.size;
}
