// Real servers on 127.0.0.1:0 and a raw SSE client over node:net for the
// createSSEStream suites. Everything a test opens is tracked and closed by
// cleanup(); every wait has an upper bound and fails with what it saw.
import { EventEmitter, once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createParser, type EventSourceMessage } from '../../lib/native/parser';
import { closeAll, createSSEStream, type SSEStream } from '../../lib/index';
import { openStreamCount } from '../../lib/stream/stream';
import type { SSEStreamOptions } from '../../lib/stream/options';
import { backend, native } from '../../lib/native/binding';

/** Upper bound of every wait: generous, only hit when a test is broken. */
export const BOUND_MS = 10_000;

/**
 * The sinks every behaviour test runs against: on the TypeScript backend
 * (the `js` Jest project, SSE_NATIVE=js) there is no adoption, so the
 * adopted sink's cases do not exist there (not skipped, not counted).
 */
export const SINKS: [string, { adopt?: boolean }][] =
  backend === 'js'
    ? [['response', { adopt: false }]]
    : [
        ['adopted', {}],
        ['response', { adopt: false }],
      ];

/** True on the native backend (the addon), where sockets may be adopted. */
export const onNative = backend === 'native';

/**
 * test() for a case about socket adoption: on the TypeScript backend the
 * case is not defined at all (neither run nor counted as skipped or passed).
 */
export const testAdopted: jest.It = onNative ? test : (Object.assign(() => undefined, test) as jest.It);

const openServers = new Set<net.Server>();
const openSockets = new Set<net.Socket>();

/** Rejects with `what` if `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, what: string, ms = BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

/** Resolves once `pred()` holds, checking every loop turn (for state no event announces, e.g. native stats). */
export function eventually(pred: () => boolean, what: string, ms = BOUND_MS): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pred()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(check, 2);
    };
    check();
  });
}

/** Resolves on the next turn of the loop (after I/O). */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A FIFO of values pushed by a server handler and awaited by the test. */
export class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((v: T) => void)[] = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }
  next(what = 'the next queued value'): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return within(new Promise<T>((r) => this.waiters.push(r)), what);
  }
}

export interface TestServer<S extends net.Server = http.Server> {
  server: S;
  port: number;
  /** Closes the server and every connection Node still knows. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0 and tracks the server for cleanup(). */
export async function listen<S extends net.Server>(server: S): Promise<TestServer<S>> {
  openServers.add(server);
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 'the server to listen');
  const port = (server.address() as AddressInfo).port;
  return { server, port, close: () => closeServer(server) };
}

async function closeServer(server: net.Server): Promise<void> {
  if (!openServers.delete(server)) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  (server as http.Server).closeAllConnections?.();
  await within(closed, 'server.close()');
}

/** A node:http server on 127.0.0.1:0 with `handler`. */
export function startHttp(handler: http.RequestListener): Promise<TestServer> {
  return listen(http.createServer(handler));
}

export interface Opened {
  stream: SSEStream;
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

export interface SSEServer extends TestServer {
  /** One entry per request, in arrival order, pushed right after createSSEStream returned. */
  opened: Queue<Opened>;
}

/**
 * A node:http server whose handler calls createSSEStream(req, res, options)
 * (options may depend on the request); `before` runs first (middleware).
 * A throw from either is an uncaught exception, which fails the test.
 */
export async function startSSE(
  options: SSEStreamOptions | ((req: http.IncomingMessage) => SSEStreamOptions),
  before?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<SSEServer> {
  const opened = new Queue<Opened>();
  const t = await startHttp((req, res) => {
    before?.(req, res);
    const stream = createSSEStream(req, res, typeof options === 'function' ? options(req) : options);
    opened.push({ stream, req, res });
  });
  return { ...t, opened };
}

// --- Reading an HTTP/1.1 response carrying an SSE body ----------------------

export interface ResponseHead {
  statusCode: number;
  statusLine: string;
  /** Header lines as received, in order. */
  raw: [string, string][];
  /** Lower-cased name -> values. */
  headers: Map<string, string[]>;
}

export type Item =
  | { type: 'event'; event: EventSourceMessage }
  | { type: 'comment'; text: string }
  | { type: 'retry'; ms: number };

/**
 * Incremental reader of one HTTP/1.1 response: the head, then the body
 * (de-chunked when Transfer-Encoding is chunked) fed to our createParser.
 * `ended` is set by the terminal chunk, or by the caller on the socket's EOF.
 */
export class ResponseReader {
  head: ResponseHead | undefined;
  headBytes: Buffer = Buffer.alloc(0);
  body: Buffer[] = [];
  bodyLength = 0;
  readonly items: Item[] = [];
  /** The chunked body's terminal chunk arrived (end of the response on a kept-alive connection). */
  terminalChunk = false;
  /** Bytes after the end of a chunked body (must stay empty). */
  trailing = 0;
  private pending: Buffer = Buffer.alloc(0);
  private chunked = false;
  private chunkLeft = -1; // -1: reading a size line; -2: CRLF after data; -3: trailers
  private readonly parser = createParser({
    onEvent: (event) => this.items.push({ type: 'event', event }),
    onComment: (text) => this.items.push({ type: 'comment', text }),
    onRetry: (ms) => this.items.push({ type: 'retry', ms }),
  });

  get events(): EventSourceMessage[] {
    return this.items.flatMap((i) => (i.type === 'event' ? [i.event] : []));
  }
  get comments(): string[] {
    return this.items.flatMap((i) => (i.type === 'comment' ? [i.text] : []));
  }
  /** The decoded body as text. */
  get bodyText(): string {
    return Buffer.concat(this.body).toString('utf8');
  }
  header(name: string): string | undefined {
    return this.head?.headers.get(name.toLowerCase())?.join(', ');
  }

  feed(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.head === undefined) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.headBytes = this.pending.subarray(0, end + 4);
      this.head = parseHead(this.headBytes.toString('latin1'));
      this.pending = this.pending.subarray(end + 4);
      this.chunked = /chunked/i.test(this.header('transfer-encoding') ?? '');
    }
    if (!this.chunked) {
      if (this.pending.length) this.bodyBytes(this.pending);
      this.pending = Buffer.alloc(0);
      return;
    }
    this.dechunk();
  }

  private dechunk(): void {
    for (;;) {
      if (this.terminalChunk) {
        this.trailing += this.pending.length;
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.chunkLeft === -1 || this.chunkLeft === -2 || this.chunkLeft === -3) {
        const eol = this.pending.indexOf('\r\n');
        if (eol < 0) return;
        const line = this.pending.subarray(0, eol).toString('latin1');
        this.pending = this.pending.subarray(eol + 2);
        if (this.chunkLeft === -2) {
          if (line !== '') throw new Error(`chunked body: expected CRLF after chunk data, got ${JSON.stringify(line)}`);
          this.chunkLeft = -1;
        } else if (this.chunkLeft === -3) {
          if (line === '') this.terminalChunk = true;
        } else {
          const size = parseInt(line.split(';')[0], 16);
          if (!Number.isFinite(size)) throw new Error(`chunked body: bad size line ${JSON.stringify(line)}`);
          this.chunkLeft = size === 0 ? -3 : size;
        }
        continue;
      }
      if (this.pending.length === 0) return;
      const take = Math.min(this.chunkLeft, this.pending.length);
      this.bodyBytes(this.pending.subarray(0, take));
      this.pending = this.pending.subarray(take);
      this.chunkLeft -= take;
      if (this.chunkLeft === 0) this.chunkLeft = -2;
    }
  }

  private bodyBytes(b: Buffer): void {
    const copy = Buffer.from(b);
    this.body.push(copy);
    this.bodyLength += copy.length;
    this.parser.feed(copy);
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n').filter((l) => l !== '');
  const statusLine = lines[0];
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
  const raw: [string, string][] = [];
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    raw.push([name, value]);
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  return { statusCode: Number(m[1]), statusLine, raw, headers };
}

// --- The raw client ---------------------------------------------------------

export interface RequestSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** Sent right after the head (Content-Length is added unless given). */
  body?: string | Buffer;
}

/** The request bytes for `spec` (HTTP/1.1, Host 127.0.0.1). */
export function requestBytes(port: number, spec: RequestSpec = {}): Buffer {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, Accept: 'text/event-stream', ...spec.headers };
  if (body !== undefined && !Object.keys(headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) {
    headers['Content-Length'] = String(body.length);
  }
  const lines = [`${spec.method ?? 'GET'} ${spec.path ?? '/'} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body === undefined ? head : Buffer.concat([head, body]);
}

/**
 * A client on a real TCP socket: collects the response head and the parsed
 * SSE items; `waitFor` resolves once a predicate over the client holds.
 */
export class SSEClient extends EventEmitter {
  readonly reader = new ResponseReader();
  /** The server closed its side (FIN). */
  gotEOF = false;
  /** The socket is fully closed. */
  closed = false;
  error: Error | undefined;

  constructor(readonly socket: net.Socket) {
    super();
    openSockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.feed(chunk);
      } catch (err) {
        this.error = err as Error;
      }
      this.emit('update');
    });
    socket.on('end', () => {
      this.gotEOF = true;
      this.emit('update');
    });
    socket.on('error', (err) => {
      this.error ??= err;
      this.emit('update');
    });
    socket.on('close', () => {
      this.closed = true;
      openSockets.delete(socket);
      this.emit('update');
    });
  }

  get head(): ResponseHead | undefined {
    return this.reader.head;
  }
  get events(): EventSourceMessage[] {
    return this.reader.events;
  }
  get comments(): string[] {
    return this.reader.comments;
  }
  get items(): Item[] {
    return this.reader.items;
  }
  /** The response body ended: FIN from the server, or a chunked body's terminal chunk. */
  get ended(): boolean {
    return this.gotEOF || this.reader.terminalChunk;
  }

  /** Resolves once pred(this) holds; rejects after the bound or once the socket closed without it. */
  waitFor(pred: (c: this) => boolean, what: string, ms = BOUND_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.off('update', check);
        if (err) reject(err);
        else resolve();
      };
      const fail = (why: string) =>
        done(new Error(`${why} waiting for ${what}; got ${this.describe()}`));
      const check = () => {
        if (this.reader.head !== undefined || this.closed) {
          // A malformed response fails the wait at once.
          if (this.error && !isReset(this.error)) return fail(`client error ${this.error.message}`);
        }
        if (pred(this)) return done();
        if (this.closed) fail('socket closed');
      };
      timer = setTimeout(() => fail(`timed out after ${ms} ms`), ms);
      this.on('update', check);
      check();
    });
  }

  /** Waits for `n` events (in total). */
  waitForEvents(n: number): Promise<void> {
    return this.waitFor((c) => c.events.length >= n, `${n} events`);
  }
  waitForHead(): Promise<ResponseHead> {
    return this.waitFor((c) => c.head !== undefined, 'the response head').then(() => this.head!);
  }
  waitForEnd(): Promise<void> {
    return this.waitFor((c) => c.ended, 'the end of the stream');
  }

  describe(): string {
    const h = this.reader.head;
    return JSON.stringify({
      status: h?.statusLine,
      events: this.events.length,
      lastEvent: this.events[this.events.length - 1],
      comments: this.comments.length,
      ended: this.ended,
      closed: this.closed,
      error: this.error?.message,
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function isReset(err: Error): boolean {
  return ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '');
}

/** Connects to 127.0.0.1:port and sends nothing (the test writes the request). */
export async function connectRaw(port: number): Promise<SSEClient> {
  const socket = net.connect(port, '127.0.0.1');
  const client = new SSEClient(socket);
  await within(once(socket, 'connect'), 'the client to connect');
  return client;
}

/** Connects to 127.0.0.1:port and sends the request; the head arrives later. */
export async function connect(port: number, spec: RequestSpec = {}): Promise<SSEClient> {
  const client = await connectRaw(port);
  client.socket.write(requestBytes(port, spec));
  return client;
}

// --- Cleanup and leak checks -------------------------------------------------

/**
 * Destroys every client socket, closes every server and waits until no
 * stream is open (in JS and in the core). Call in afterEach.
 */
export async function cleanup(): Promise<void> {
  for (const s of [...openSockets]) s.destroy();
  await Promise.all([...openServers].map((s) => closeServer(s)));
  if (openStreamCount() !== 0) closeAll();
  await eventually(() => openStreamCount() === 0, `every stream to close (open: ${openStreamCount()})`);
  await eventually(() => native.stats().connectionsOpen === 0, 'the core to report no open connection');
}

/**
 * Registers the hooks every stream suite uses: console.error is spied on
 * and must stay silent; after each test `first` runs (e.g. killing helper
 * processes), then cleanup().
 */
export function useTestEnv(first?: () => Promise<void>): void {
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    spy = jest.spyOn(console, 'error');
  });
  afterEach(async () => {
    try {
      await first?.();
      await cleanup();
    } finally {
      const calls = [...(spy?.mock.calls ?? [])];
      spy?.mockRestore();
      expect(calls).toEqual([]);
    }
  });
}

/** The 'close' events of `stream`, counted from now. */
export function countCloses(stream: SSEStream): { count: () => number } {
  let n = 0;
  stream.on('close', () => n++);
  return { count: () => n };
}

/** A port nobody listens on now (127.0.0.1), for a server started in a child process. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
