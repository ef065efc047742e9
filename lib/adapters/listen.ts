// listenSSE(): a server whose connections the C++ core accepts itself. The
// core reads and parses each request head (native/core/io/listener.h) and
// hands JS only the parsed head; no net.Socket, IncomingMessage,
// ServerResponse or HTTP parser is made for a connection, so an idle stream
// costs its core member and its SSEStream handle, not Node's HTTP
// machinery. The handler accepts (the connection becomes an adopted
// stream, the same SSEStream as createSSEStream's) or answers it with a
// plain response. Where the core cannot listen (the TypeScript backend,
// `engine: 'node'`) the same API runs on node:http.
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SSEError, argTypeError, argValueError, withCode } from '../common/errors';
import { refusalError } from '../hub/limits';
import { joinMember, registerConnection } from '../hub/hub';
import { C, native } from '../native/binding';
import type { ListenerStats, MemberOptions } from '../native/binding-types';
import type { EventMap } from '../native/encoder';
import { resolveOptions, type ResolvedOptions, type SSEStreamOptions } from '../stream/options';
import type { Refusal } from '../stream/access';
import { SSEStream, kClientGone, routeRequests, trackMember } from '../stream/stream';
import { responseHeaders, type Res } from './adopt';
import { createSSEStream, requestLastEventId } from './node';
import { admit } from './admit';

/** Options of listenSSE(). */
export interface SSEServerOptions {
  /** TCP port; 0 (the default) picks a free one (see `server.port`). */
  port?: number;
  /** Address to listen on (default '::', every IPv6 and IPv4 address; '0.0.0.0' when IPv6 is off). */
  host?: string;
  /** Listen backlog (default 511, as Node's). */
  backlog?: number;
  /** Largest request head read (default 8192 bytes); a longer one gets 431. */
  maxHeadBytes?: number;
  /** Ms a client has to send its head, and the handler to answer it (default 10 000). */
  headTimeoutMs?: number;
  /** Connections whose head is being read or waits for the handler, at most (default 4096); more are closed at once. */
  maxPending?: number;
  /**
   * SO_REUSEPORT (Linux, the BSDs): several listeners, one per Worker
   * thread or process, share the port and the kernel spreads connections
   * over them, each thread's core writing its own (broadcasts reach every
   * thread). Default false.
   */
  reusePort?: boolean;
  /** Defaults for every `req.accept(options)` (merged under them). */
  stream?: SSEStreamOptions;
  /**
   * 'core' (the default): the C++ core accepts connections; 'node': a
   * node:http server with the same API (what the TypeScript backend uses).
   */
  engine?: 'core' | 'node';
}

/** A request the handler given to listenSSE() decides on: accept() it as a stream, or respond(). */
export interface SSERequest {
  /** 'GET', 'POST', ... as sent. */
  readonly method: string;
  /** The request target as sent ('/events?room=1'). */
  readonly url: string;
  /** '1.1' or '1.0'. */
  readonly httpVersion: string;
  /** Header names in lower case; a repeated header's values joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  /** The peer's address (not X-Forwarded-For: see the `trustProxy` stream option). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The client's Last-Event-ID (header, else `?lastEventId=`). */
  readonly lastEventId: string | undefined;
  /** True once accept() or respond() answered the request. */
  readonly answered: boolean;
  /**
   * Starts the SSE stream on this connection with `options` (over the
   * server's `stream` defaults): the same checks, keys and stream as
   * createSSEStream. A request an option refuses (allowOrigins, authorize,
   * the limits) is answered with its status and the stream returned closed.
   */
  accept<E extends EventMap = EventMap>(options?: SSEStreamOptions): SSEStream<E>;
  /**
   * Starts the stream as accept() does, in the `key` (or keys) of
   * `options`, with no SSEStream: the connection lives in the core alone,
   * reached by broadcast(key) and ended by closeAll() or the client. The
   * lightest stream there is (no JavaScript object per connection), for
   * many subscribers of a few channels. True when the stream opened; false
   * when an option refused it (answered with its status) or the client left.
   */
  subscribe(options: SSEStreamOptions & { key: string | readonly string[] }): boolean;
  /**
   * Answers with a plain response and closes the connection. `body` is
   * text (sent as UTF-8, `text/plain` unless `headers` says otherwise) or
   * bytes. False when the client had already left.
   */
  respond(status: number, body?: string | Uint8Array, headers?: Record<string, string | number | readonly string[]>): boolean;
}

/** What listenSSE() calls with each request; an async handler may await before answering. */
export type SSERequestHandler = (req: SSERequest) => void | Promise<void>;

/**
 * A running listenSSE() server. 'error' is emitted with what a handler
 * threw (the request got 500); with no 'error' listener that error is
 * thrown, as Node's servers do.
 */
export class SSEServer extends EventEmitter {
  /** 'core' when the C++ core accepts the connections, else 'node' (node:http). */
  readonly engine: 'core' | 'node';
  /** The address listened on. */
  readonly host: string;
  /** The port listened on (the one picked when `port` was 0). */
  readonly port: number;
  private closer: () => Promise<void>;
  private refSetter: (ref: boolean) => void;
  private closedAll = false;
  /** @internal */
  readonly statsOf: () => ListenerStats | undefined;

  /** @internal Use listenSSE(). */
  constructor(engine: 'core' | 'node', host: string, port: number, closer: () => Promise<void>, stats: () => ListenerStats | undefined, ref: (ref: boolean) => void) {
    super();
    this.engine = engine;
    this.host = host;
    this.port = port;
    this.closer = closer;
    this.statsOf = stats;
    this.refSetter = ref;
  }

  /** The listening socket no longer keeps the process alive (as net.Server's unref()); open streams still do. */
  unref(): this {
    this.refSetter(false);
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    this.refSetter(true);
    return this;
  }

  /** The listener's counters (core engine): accepted, pending, bad heads, head timeouts, over the pending cap. */
  get stats(): ListenerStats | undefined {
    return this.statsOf();
  }

  /**
   * Stops accepting connections. Streams already open stay open (like
   * Node's server.close()): `await closeAll(final)` ends them.
   */
  close(): Promise<void> {
    if (this.closedAll) return Promise.resolve();
    this.closedAll = true;
    return this.closer();
  }
}

const kDefaultHeadTimeoutMs = 10000;

/**
 * Listens for SSE clients with the C++ core accepting connections itself:
 * no Node HTTP objects per connection, so an idle stream costs about a
 * kilobyte (docs/scale.md). `handler(req)` gets
 * each request's parsed head and calls `req.accept(options)` (an
 * SSEStream, exactly createSSEStream's) or `req.respond(status, body)`; a
 * request it leaves unanswered gets 404. Request bodies are not read (a
 * request with one gets 413), and the server speaks plain HTTP/1.x: put TLS
 * and HTTP/2 in a proxy in front. Resolves once listening; rejects with
 * Node's error for the address (EADDRINUSE, EACCES...).
 */
export async function listenSSE(options: SSEServerOptions, handler: SSERequestHandler): Promise<SSEServer> {
  if (typeof options !== 'object' || options === null) throw argTypeError('listenSSE: `options` must be an object like { port: 8080 }');
  if (typeof handler !== 'function') throw argTypeError('listenSSE: `handler` must be a function (req) => { req.accept() or req.respond(...) }');
  const known = ['port', 'host', 'backlog', 'maxHeadBytes', 'headTimeoutMs', 'maxPending', 'reusePort', 'stream', 'engine'];
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw argValueError(`listenSSE: unknown option \`${name}\` (known: ${known.join(', ')}; stream options go in \`stream\`)`);
  }
  const port = intOption(options.port, 'port', 0, 0, 65535);
  const backlog = intOption(options.backlog, 'backlog', 511, 1, 65535);
  const maxHeadBytes = intOption(options.maxHeadBytes, 'maxHeadBytes', 8192, 256, 1 << 20);
  const headTimeoutMs = intOption(options.headTimeoutMs, 'headTimeoutMs', kDefaultHeadTimeoutMs, 1, 2 ** 31 - 1);
  const maxPending = intOption(options.maxPending, 'maxPending', 4096, 1, 1 << 24);
  if (options.host !== undefined && typeof options.host !== 'string') throw argTypeError(`listenSSE: \`host\` must be a string like '127.0.0.1', got ${typeof options.host}`);
  if (options.reusePort !== undefined && typeof options.reusePort !== 'boolean') throw argTypeError(`listenSSE: \`reusePort\` must be true or false, got ${typeof options.reusePort}`);
  const reusePort = options.reusePort ?? false;
  if (options.engine !== undefined && options.engine !== 'core' && options.engine !== 'node') {
    throw argValueError(`listenSSE: \`engine\` must be 'core' or 'node', got ${String(options.engine)}`);
  }
  const defaults = options.stream ?? {};
  // Checked now, so a bad default fails listenSSE(), not every request.
  resolveOptions(defaults);

  if (options.engine !== 'node') {
    // The core takes numeric addresses: a name is looked up first, as
    // node:http's listen() does.
    const hosts = options.host === undefined ? ['::', '0.0.0.0'] : [isIP(options.host) !== 0 ? options.host : (await lookup(options.host)).address];
    let rc = 0;
    for (const host of hosts) {
      rc = native.listen(host, port, backlog, maxHeadBytes, headTimeoutMs, maxPending, reusePort);
      if (rc > 0) return coreServer(rc, defaults, handler);
      // '::' where IPv6 is off: try IPv4; any other error is the answer.
      if (!['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes(native.errName(rc))) break;
    }
    if (native.errName(rc) !== 'ENOTSUP') throw listenError(rc, options.host ?? '::', port);
    if (options.engine === 'core') {
      throw withCode(new Error("listenSSE: engine 'core' needs the native addon (this process runs the TypeScript backend); leave `engine` unset to serve through node:http"), 'ERR_SSE_NO_CORE_LISTENER');
    }
  }
  return nodeServer(options.host, port, backlog, headTimeoutMs, reusePort, defaults, handler);
}

function intOption(v: unknown, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw argTypeError(`listenSSE: \`${name}\` must be an integer from ${min} to ${max}, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

// Node's shape for a listen error: code, errno, syscall, address, port.
function listenError(rc: number, host: string, port: number): Error {
  const name = native.errName(rc);
  const hint = name === 'EADDRINUSE' ? ' (another process listens there: pick another port, or 0 for any)' : name === 'EACCES' ? ' (ports below 1024 need privileges: pick a port above 1023)' : '';
  const err = withCode(new Error(`listen ${name}: ${host}:${port}${hint}`), name) as Error & { errno?: number; syscall?: string; address?: string; port?: number };
  err.errno = rc;
  err.syscall = 'listen';
  err.address = host;
  err.port = port;
  return err;
}

// ---------------------------------------------------------------------------
// The core engine.

const coreServers = new Map<number, { server: SSEServer; defaults: SSEStreamOptions; handler: SSERequestHandler }>();

function coreServer(id: number, defaults: SSEStreamOptions, handler: SSERequestHandler): SSEServer {
  routeRequests(onCoreRequest);
  const [host, port] = native.listenerAddress(id) ?? ['', 0];
  const server = new SSEServer('core', host, port, async () => {
    coreServers.delete(id);
    native.closeListener(id);
  }, () => native.listenerStats(id), (ref) => native.listenerRef(id, ref));
  coreServers.set(id, { server, defaults, handler });
  return server;
}

function onCoreRequest(pendingId: number, listenerId: number): void {
  const entry = coreServers.get(listenerId);
  if (entry === undefined) {
    // A head read just before its listener closed.
    native.respondRequest(pendingId, 503, 'Service Unavailable', [], [], Buffer.alloc(0));
    return;
  }
  const head = native.requestHead(pendingId);
  if (head === undefined) return;
  run(new CoreRequest(pendingId, head, entry.defaults), entry.server, entry.handler);
}

// Header lists as the core reports them: lower-case names, repeats joined.
function headerRecord(head: readonly (string | number)[], from: number): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (let i = from; i + 1 < head.length; i += 2) {
    const name = String(head[i]).toLowerCase();
    const value = String(head[i + 1]);
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

abstract class BaseRequest implements SSERequest {
  answered = false;

  constructor(
    protected readonly defaults: SSEStreamOptions,
    readonly method: string,
    readonly url: string,
    readonly httpVersion: string,
    readonly headers: Readonly<Record<string, string>>,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  get lastEventId(): string | undefined {
    return requestLastEventId(this.headers['last-event-id'], this.url);
  }

  abstract accept<E extends EventMap = EventMap>(options?: SSEStreamOptions): SSEStream<E>;
  abstract subscribe(options: SSEStreamOptions & { key: string | readonly string[] }): boolean;
  abstract respond(status: number, body?: string | Uint8Array, headers?: Record<string, string | number | readonly string[]>): boolean;

  protected claim(what: string): void {
    if (this.answered) {
      throw new SSEError('SSE_ALREADY_STREAMING', `req.${what}(): this request was already answered; call accept() or respond() once per request`);
    }
    this.answered = true;
  }

  protected merged(options: SSEStreamOptions | undefined): SSEStreamOptions {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw argTypeError(`req.accept: options must be an object, got ${typeof options}`);
    return options === undefined ? this.defaults : { ...this.defaults, ...options };
  }
}

class CoreRequest extends BaseRequest {
  private readonly pendingId: number;

  constructor(pendingId: number, head: [string, string, number, string, number, number, ...string[]], defaults: SSEStreamOptions) {
    super(defaults, head[0], head[1], head[2] === 0 ? '1.0' : '1.1', headerRecord(head, 6), head[3], head[4]);
    this.pendingId = pendingId;
  }

  accept<E extends EventMap = EventMap>(options?: SSEStreamOptions): SSEStream<E> {
    return this.open(options, 'accept') as SSEStream<E>;
  }

  subscribe(options: SSEStreamOptions & { key: string | readonly string[] }): boolean {
    return this.open(options, 'subscribe') as boolean;
  }

  private open(options: SSEStreamOptions | undefined, what: 'accept' | 'subscribe'): SSEStream | boolean {
    const opts = resolveOptions(this.merged(options));
    if (this.answered) this.claim(what);
    if (opts.adopt === false) {
      throw argValueError(`req.${what}: \`adopt: false\` has no meaning on listenSSE's core engine (the core owns every connection); pass engine: 'node' to listenSSE for res.write streams`);
    }
    if (opts.format === 'ndjson' && opts.keys.length > 0) {
      throw argValueError(`req.${what}: an NDJSON stream (format: 'ndjson') cannot join a hub key: broadcasts are SSE frames`);
    }
    if (what === 'subscribe' && opts.keys.length === 0) {
      throw argValueError('req.subscribe: `key` is required (a stream with no handle is reached only through its keys); use req.accept() for a stream you send to yourself');
    }
    // Who may open a stream, in createSSEStream's order (admit.ts).
    const closing = this.httpVersion === '1.0' || /(^|,)\s*close\s*(,|$)/i.test(this.headers.connection ?? '');
    const admitted = admit(opts, {
      origin: this.headers.origin,
      peer: this.remoteAddress,
      forwardedFor: this.headers['x-forwarded-for'],
      request: this,
      asked: undefined,
      instead: `an async handler: await your check, then call req.${what}()`,
    }, (cors) => headBytes(cors, opts, closing));
    if ('refusal' in admitted) return this.refuse(admitted.refusal, what);
    const { cors, address, prepared: head } = admitted;

    if (this.method === 'HEAD') {
      // The head a GET would get, no stream: a HEAD response has no body.
      const [names, values] = responseHeaders(headerSource(cors), opts, false, true);
      this.claim(what);
      native.respondRequest(this.pendingId, opts.status, STATUS_CODES[opts.status] ?? '', names, values, Buffer.alloc(0));
      if (what === 'subscribe') return false;
      const none = new SSEStream(this.lastEventId, null);
      none.closeNow(new SSEError('SSE_CLOSED', 'a HEAD request gets the response head only, no stream (send events on a GET)'));
      return none;
    }
    this.claim(what);
    if (what === 'subscribe') {
      const id = native.open(memberOptions(opts, address));
      if (native.acceptRequest(this.pendingId, id, head) !== 0) {
        native.close(id, false);
        return false;
      }
      trackMember(id);
      if (opts.retry !== undefined) native.send(id, undefined, undefined, undefined, opts.retry, undefined);
      const lastId = opts.resume ? this.lastEventId || undefined : undefined;
      let open = true;
      for (const key of opts.keys) open = joinMember(key, id, lastId) && open;
      return open;
    }
    const stream = new SSEStream(this.lastEventId, opts, address);
    if (native.acceptRequest(this.pendingId, stream.memberId, head) !== 0) {
      stream.closeNow(new SSEError('SSE_CLIENT_GONE', kClientGone));
      return stream;
    }
    stream.adopted();
    if (opts.retry !== undefined) stream.write([undefined, undefined, undefined, opts.retry, undefined]);
    for (const key of opts.keys) registerConnection(key, stream, { resume: opts.resume });
    return stream;
  }

  respond(status: number, body: string | Uint8Array = '', headers: Record<string, string | number | readonly string[]> = {}): boolean {
    const [names, values, bytes] = plainResponse(status, body, headers);
    this.claim('respond');
    return native.respondRequest(this.pendingId, status, STATUS_CODES[status] ?? '', names, values, bytes) === 0;
  }

  private refuse(refusal: Refusal, what: 'accept' | 'subscribe'): SSEStream | false {
    this.respond(refusal.status, `${refusal.message}\n`, { ...refusal.headers, 'Cache-Control': 'no-store' });
    const err = refusalError(refusal);
    if (what === 'subscribe') return false;
    const stream = new SSEStream(this.lastEventId, null);
    stream.closeNow(err);
    return stream;
  }
}

// Response heads of streams with no headers of their own (no `headers`
// option, no CORS, SSE format), by status and Connection: close: a server
// accepting with the same options builds its head once.
const plainHeads = new Map<string, Buffer>();

function headBytes(cors: Record<string, string> | undefined, opts: ResolvedOptions, closing: boolean): Buffer {
  const plain = cors === undefined && opts.format === 'sse' && Object.isFrozen(opts.headers) && Object.keys(opts.headers).length === 0;
  const cacheKey = `${opts.status} ${closing}`;
  const cached = plain ? plainHeads.get(cacheKey) : undefined;
  if (cached !== undefined) return cached;
  const [names, values] = responseHeaders(headerSource(cors), opts, false, closing);
  const bytes = native.buildHead(opts.status, STATUS_CODES[opts.status] ?? '', names, values);
  if (plain && plainHeads.size < 64) plainHeads.set(cacheKey, bytes);
  return bytes;
}

function memberOptions(opts: ResolvedOptions, address: string | undefined): MemberOptions {
  return {
    highWaterMark: opts.highWaterMark,
    maxBuffered: opts.maxBuffered,
    slowConsumerMs: opts.slowConsumerMs,
    policy: opts.onSlowConsumer === 'drop' ? C.Policy.DROP : C.Policy.CLOSE,
    heartbeatMs: opts.heartbeatMs,
    idleTimeoutMs: opts.idleTimeoutMs,
    maxDurationMs: opts.maxDurationMs,
    address,
  };
}

// The app's headers for responseHeaders(): here only the CORS ones.
function headerSource(cors: Record<string, string> | undefined): Res {
  const h = cors ?? {};
  return { getHeaderNames: () => Object.keys(h), getHeader: (n: string) => h[n] } as unknown as Res;
}

// A plain response's header lists and body bytes; a TypeError naming a bad argument.
function plainResponse(status: number, body: string | Uint8Array, headers: Record<string, string | number | readonly string[]>): [string[], string[], Uint8Array] {
  if (!Number.isInteger(status) || status < 200 || status > 999) {
    throw withCode(new RangeError(`req.respond: \`status\` must be an integer from 200 to 999, got ${String(status)}`), 'ERR_HTTP_INVALID_STATUS_CODE');
  }
  let bytes: Uint8Array;
  if (typeof body === 'string') bytes = Buffer.from(body, 'utf8');
  else if (body instanceof Uint8Array) bytes = body;
  else throw argTypeError(`req.respond: \`body\` must be a string or a Uint8Array, got ${typeof body}`);
  if (typeof headers !== 'object' || headers === null) throw argTypeError(`req.respond: \`headers\` must be an object, got ${typeof headers}`);
  const names: string[] = [];
  const values: string[] = [];
  let typed = false;
  for (const [name, v] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    // The core frames the body and closes the connection itself.
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    if (lower === 'content-type') typed = true;
    for (const one of Array.isArray(v) ? v : [v]) {
      names.push(name);
      values.push(String(one));
    }
  }
  if (!typed && bytes.length > 0) {
    names.push('Content-Type');
    values.push('text/plain; charset=utf-8');
  }
  return [names, values, bytes];
}

// ---------------------------------------------------------------------------
// The node:http engine: the same API over createSSEStream.

class NodeRequest extends BaseRequest {
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;

  constructor(req: IncomingMessage, res: ServerResponse, defaults: SSEStreamOptions) {
    super(defaults, req.method ?? 'GET', req.url ?? '/', req.httpVersion, headerRecord(req.rawHeaders, 0), req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0);
    this.req = req;
    this.res = res;
  }

  accept<E extends EventMap = EventMap>(options?: SSEStreamOptions): SSEStream<E> {
    const opts = this.merged(options);
    if (this.answered) this.claim('accept');
    const stream = createSSEStream<E>(this.req, this.res, opts);
    this.answered = true;
    return stream;
  }

  subscribe(options: SSEStreamOptions & { key: string | readonly string[] }): boolean {
    const opts = this.merged(options);
    if (this.answered) this.claim('subscribe');
    if (resolveOptions(opts).keys.length === 0) {
      throw argValueError('req.subscribe: `key` is required (a stream with no handle is reached only through its keys); use req.accept() for a stream you send to yourself');
    }
    const stream = createSSEStream(this.req, this.res, opts);
    this.answered = true;
    return !stream.closed;
  }

  respond(status: number, body: string | Uint8Array = '', headers: Record<string, string | number | readonly string[]> = {}): boolean {
    const [names, values, bytes] = plainResponse(status, body, headers);
    this.claim('respond');
    if (this.res.destroyed) return false;
    const out: Record<string, string | string[]> = {};
    names.forEach((n, i) => {
      const had = out[n];
      out[n] = had === undefined ? values[i] : [...(Array.isArray(had) ? had : [had]), values[i]];
    });
    out['Content-Length'] = String(bytes.length);
    out.Connection = 'close';
    this.res.writeHead(status, out);
    this.res.end(bytes);
    return true;
  }
}

function nodeServer(host: string | undefined, port: number, backlog: number, headTimeoutMs: number, reusePort: boolean, defaults: SSEStreamOptions, handler: SSERequestHandler): Promise<SSEServer> {
  let sse: SSEServer | undefined;
  const http: Server = createServer((req, res) => run(new NodeRequest(req, res, defaults), sse!, handler));
  http.headersTimeout = headTimeoutMs;
  http.requestTimeout = 0;
  http.keepAliveTimeout = 0;
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    http.once('error', onError);
    // reusePort: node:http has it from Node 22.12 on; older ones ignore it
    // (a second server on the port then fails with EADDRINUSE).
    http.listen({ port, host, backlog, reusePort } as Parameters<Server['listen']>[0], () => {
      http.off('error', onError);
      const a = http.address();
      const bound = typeof a === 'object' && a !== null ? a : { address: host ?? '::', port };
      // Resolves once the port is closed; open streams keep their
      // connections (http.close()'s callback would wait for them).
      sse = new SSEServer('node', bound.address, bound.port, () => new Promise((done) => {
        http.close();
        setImmediate(done);
      }), () => undefined, (ref) => void (ref ? http.ref() : http.unref()));
      http.on('error', (err) => sse!.emit('error', err));
      resolve(sse);
    });
  });
}

// ---------------------------------------------------------------------------
// Both engines: the handler, its errors, and the 404 of a request left unanswered.

function run(req: BaseRequest, server: SSEServer, handler: SSERequestHandler): void {
  let result: void | Promise<void>;
  try {
    result = handler(req);
  } catch (err) {
    failed(req, server, err);
    return;
  }
  if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
    (result as Promise<void>).then(
      () => unanswered(req),
      (err: unknown) => failed(req, server, err),
    );
  } else {
    unanswered(req);
  }
}

function unanswered(req: BaseRequest): void {
  if (req.answered) return;
  req.respond(404, `No SSE stream at ${req.url}: the listenSSE() handler neither accepted nor answered this request (call req.accept() or req.respond())\n`);
}

function failed(req: BaseRequest, server: SSEServer, err: unknown): void {
  if (!req.answered) req.respond(500, 'Internal Server Error\n');
  server.emit('error', err);
}
