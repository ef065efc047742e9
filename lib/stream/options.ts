// Options of createSSEStream, validated before anything is written.
import type { IncomingMessage } from 'node:http';
import { argTypeError, argValueError } from '../common/errors';
import { compileOrigins, compileTrust, type AllowOrigins, type AuthorizeResult, type OriginTest, type TrustProxy } from './access';

/** Limits and timings the core applies to every stream the same way, whatever its sink. */
export interface SinkLimits {
  highWaterMark: number;
  maxBuffered: number;
  slowConsumerMs: number;
  onSlowConsumer: 'close' | 'drop';
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxDurationMs: number;
}

export interface SSEStreamOptions {
  /** Response status. @defaultValue 200 */
  status?: number;
  /** Extra response headers; they override the app's and the SSE defaults. */
  headers?: Record<string, string | number | readonly string[]>;
  /** Reconnection time sent to the client as `retry:` when the stream opens (ms). */
  retry?: number;
  /** Adds a random 0..retryJitterMs to `retry` per client, so a restart does not bring everyone back at once. */
  retryJitterMs?: number;
  /** A `: keepalive` comment after this long without a write (ms); 0 turns it off. @defaultValue 15000 */
  heartbeatMs?: number;
  /** send() returns false while more than this many bytes are queued. @defaultValue 65536 */
  highWaterMark?: number;
  /**
   * Memory cap on the bytes waiting for a client that is not reading: when more than this many of the
   * stream's own bytes wait behind a write that made no progress since the previous flush,
   * onSlowConsumer applies. A broadcast frame shared by many streams costs each only its share. A burst
   * sent in one turn is never judged by its size alone: the flush tries to write it first.
   * @defaultValue 1048576
   */
  maxBuffered?: number;
  /**
   * A client whose queue stays above highWaterMark with no byte taken for this long (ms) is a slow
   * consumer and onSlowConsumer applies; 0 turns the timer off (maxBuffered still applies).
   * @defaultValue 10000
   */
  slowConsumerMs?: number;
  /**
   * What happens to a slow consumer: 'close' it (closeReason SSE_SLOW_CONSUMER, counted), or 'drop'
   * what it is sent (send() returns false, counted in drops) until it takes bytes again.
   * @defaultValue 'close'
   */
  onSlowConsumer?: 'close' | 'drop';
  /** Close gracefully after this long without an event (heartbeats do not count); 0 = never. */
  idleTimeoutMs?: number;
  /** Close gracefully this long after opening; 0 = never. */
  maxDurationMs?: number;
  /** Let the core adopt the socket when it may. @defaultValue true */
  adopt?: boolean;
  /** Hub key(s) to register the stream under at once; limits per key are checked before anything is written. */
  key?: string | readonly string[];
  /** With `key`: first send what the client missed since its Last-Event-ID (the key's replay ring). */
  resume?: boolean;
  /**
   * 'ndjson': the same stream as `application/x-ndjson`, one JSON value a
   * line (send({ data }) writes `data` as JSON). No heartbeats, `retry`,
   * event names, ids or hub keys (those are SSE). @defaultValue 'sse'
   */
  format?: 'sse' | 'ndjson';
  /**
   * The largest event send() accepts, in bytes on the wire (the whole
   * frame); over it send() throws a RangeError (code ERR_OUT_OF_RANGE) and
   * sends nothing. 0 or left out: setLimits({ maxEventBytes }), else none.
   */
  maxEventBytes?: number;
  /**
   * Browser origins allowed to open the stream: a list of exact origins
   * (`'https://app.example.com'`; `'*'` for any), a RegExp, or
   * `(origin) => boolean`. A request whose `Origin` is not allowed gets 403
   * before anything counts; an allowed one gets
   * `Access-Control-Allow-Origin: <origin>` and `Vary: Origin`. Requests
   * with no Origin header (same-origin EventSource, curl) are let in. A
   * list is compiled once per array: change the rule by passing a new array.
   */
  allowOrigins?: AllowOrigins;
  /** With allowOrigins: also send `Access-Control-Allow-Credentials: true` (cookies on cross-origin EventSource). */
  credentials?: boolean;
  /**
   * Decides whether the request may open a stream, before any limit counts
   * and before anything is written: `true` lets it in, `false` answers 401,
   * `{ status, headers?, message? }` that 4xx, a throw 403 (see
   * AuthorizeResult). createSSEStream() needs a synchronous answer; for an
   * async one use `await acceptSSEStream(...)` (same arguments).
   */
  authorize?: (req: IncomingMessage) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * Proxies whose `X-Forwarded-For` is believed: addresses or CIDRs, or
   * `(address) => boolean`. The client address (for
   * maxConnectionsPerAddress and connectRatePerAddress) is then the
   * rightmost hop that is not trusted. Left out: the socket's peer. A list
   * is compiled once per array.
   */
  trustProxy?: TrustProxy;
}

export interface ResolvedOptions extends SinkLimits {
  status: number;
  headers: Record<string, string | number | readonly string[]>;
  retry: number | undefined;
  adopt: boolean;
  keys: readonly string[];
  resume: boolean;
  format: 'sse' | 'ndjson';
  maxEventBytes: number;
  origins: OriginTest | undefined;
  credentials: boolean;
  authorize: ((req: never) => unknown) | undefined;
  trust: ((address: string) => boolean) | undefined;
}

// Shared by every stream that sets none (one object less per stream).
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_KEYS: readonly string[] = Object.freeze([]);

// RFC 9110 token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function nonNegativeInt(o: SSEStreamOptions, key: keyof SSEStreamOptions, fallback: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw argTypeError(`\`${key}\` must be a non-negative integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

const KNOWN = [
  'status', 'headers', 'retry', 'retryJitterMs', 'heartbeatMs', 'highWaterMark', 'maxBuffered', 'slowConsumerMs',
  'onSlowConsumer', 'idleTimeoutMs', 'maxDurationMs', 'adopt', 'key', 'resume', 'format',
  'maxEventBytes', 'allowOrigins', 'credentials', 'authorize', 'trustProxy',
];

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** The known option nearest to `name` (for "did you mean"), if any is close. */
export function nearestOption(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = k.toLowerCase().startsWith(name.toLowerCase()) ? 1 : distance(name, k);
    if (dist < bestD) {
      bestD = dist;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 2)) ? best : undefined;
}

/** Checks every option; throws a TypeError naming the first bad one. */
export function resolveOptions(options: SSEStreamOptions | undefined, extra: readonly string[] = []): ResolvedOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw argTypeError(`options must be an object, got ${typeof o}`);
  for (const name of Object.keys(o)) {
    if (KNOWN.includes(name) || extra.includes(name)) continue;
    const near = nearestOption(name, [...KNOWN, ...extra]);
    throw argValueError(`unknown option \`${name}\`${near ? ` (did you mean \`${near}\`?)` : ''}; known options: ${[...KNOWN, ...extra].join(', ')}`);
  }
  const status = nonNegativeInt(o, 'status', 200);
  if (status < 200 || status > 599) throw argValueError(`\`status\` must be an HTTP status code (200-599), got ${status}`);
  const highWaterMark = nonNegativeInt(o, 'highWaterMark', 64 * 1024);
  const maxBuffered = nonNegativeInt(o, 'maxBuffered', 1024 * 1024);
  if (maxBuffered < highWaterMark) {
    throw argValueError(`\`maxBuffered\` (${maxBuffered}) must be at least \`highWaterMark\` (${highWaterMark})`);
  }
  const policy = o.onSlowConsumer ?? 'close';
  if (policy !== 'close' && policy !== 'drop') {
    throw argValueError(`\`onSlowConsumer\` must be 'close' or 'drop', got ${String(policy)}`);
  }
  const headers = o.headers ?? NO_HEADERS;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw argValueError('`headers` must be an object of header names to values, like { \'X-Accel-Buffering\': \'no\' }');
  }
  for (const [k, v] of Object.entries(headers)) {
    const ok = typeof v === 'string' || typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    if (!ok) throw argValueError(`\`headers\`: the value of ${JSON.stringify(k)} must be a string, number or string[]`);
    // Checked here so both sinks refuse before anything is written (res.writeHead
    // would throw only after the stream took the response).
    if (!HEADER_NAME.test(k)) throw argValueError(`\`headers\`: invalid header name ${JSON.stringify(k)}: use letters, digits and !#$%&'*+-.^_\`|~ only`);
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === 'string' && /[\r\n\0]/.test(x)) {
        throw argValueError(`\`headers\`: invalid header value ${JSON.stringify(k)}: must hold no CR, LF or NUL: send one line (encode other text, e.g. with encodeURIComponent)`);
      }
    }
  }
  let retry = o.retry === undefined ? undefined : nonNegativeInt(o, 'retry', 0);
  const jitter = nonNegativeInt(o, 'retryJitterMs', 0);
  if (retry !== undefined && jitter > 0) retry += Math.floor(Math.random() * (jitter + 1));
  if (o.adopt !== undefined && typeof o.adopt !== 'boolean') throw argValueError(`\`adopt\` must be true or false, got ${typeof o.adopt}`);
  const keys = o.key === undefined ? NO_KEYS : typeof o.key === 'string' ? [o.key] : o.key;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k === '')) {
    throw argValueError('`key` must be a non-empty string or an array of them');
  }
  if (o.resume !== undefined && typeof o.resume !== 'boolean') throw argValueError(`\`resume\` must be true or false (it needs \`key\`), got ${typeof o.resume}`);
  const format = o.format ?? 'sse';
  if (format !== 'sse' && format !== 'ndjson') throw argValueError(`\`format\` must be 'sse' or 'ndjson', got ${String(format)}`);
  if (o.credentials !== undefined && typeof o.credentials !== 'boolean') throw argValueError('`credentials` must be a boolean');
  const credentials = o.credentials ?? false;
  if (credentials && o.allowOrigins === undefined) {
    throw argValueError("`credentials: true` needs `allowOrigins` (the origins whose pages may send cookies), e.g. allowOrigins: ['https://app.example.com']");
  }
  const origins = o.allowOrigins === undefined ? undefined : compileOrigins(o.allowOrigins, credentials);
  if (o.authorize !== undefined && typeof o.authorize !== 'function') {
    throw argTypeError(`\`authorize\` must be a function (req) => boolean | Promise<boolean>, got ${o.authorize === null ? 'null' : typeof o.authorize}`);
  }
  const trust = o.trustProxy === undefined ? undefined : compileTrust(o.trustProxy);
  let finalHeaders = headers;
  let heartbeatMs = nonNegativeInt(o, 'heartbeatMs', 15000);
  if (format === 'ndjson') {
    for (const sseOnly of ['retry', 'key', 'resume'] as const) {
      if (o[sseOnly] !== undefined) {
        throw argValueError(`\`${sseOnly}\` is an SSE feature: an NDJSON stream (format: 'ndjson') has no ${sseOnly === 'retry' ? 'reconnection time' : 'hub keys'}; leave it out`);
      }
    }
    if (o.heartbeatMs !== undefined && heartbeatMs !== 0) {
      throw argValueError("`heartbeatMs`: an NDJSON stream has no heartbeats (they are SSE comments); leave it out or set 0");
    }
    heartbeatMs = 0;
    finalHeaders = { 'Content-Type': 'application/x-ndjson; charset=utf-8', ...headers };
  }
  return {
    format,
    keys,
    resume: o.resume ?? false,
    status,
    headers: finalHeaders,
    retry,
    adopt: o.adopt ?? true,
    highWaterMark,
    maxBuffered,
    slowConsumerMs: nonNegativeInt(o, 'slowConsumerMs', 10_000),
    onSlowConsumer: policy,
    heartbeatMs,
    idleTimeoutMs: nonNegativeInt(o, 'idleTimeoutMs', 0),
    maxDurationMs: nonNegativeInt(o, 'maxDurationMs', 0),
    maxEventBytes: nonNegativeInt(o, 'maxEventBytes', 0),
    origins,
    credentials,
    authorize: o.authorize as ((req: never) => unknown) | undefined,
    trust,
  };
}
