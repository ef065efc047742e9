// Options of createSSEStream, validated before anything is written.
import type { SinkLimits } from './sinks/sink';

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
  /** Hard bound on queued bytes per connection; past it onSlowConsumer applies. @defaultValue 1048576 */
  maxBuffered?: number;
  /** Past maxBuffered: 'close' the connection or 'drop' the event (counted). @defaultValue 'close' */
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
}

export interface ResolvedOptions extends SinkLimits {
  status: number;
  headers: Record<string, string | number | readonly string[]>;
  retry: number | undefined;
  adopt: boolean;
  keys: readonly string[];
  resume: boolean;
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
    throw new TypeError(`\`${key}\` must be a non-negative integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** Checks every option; throws a TypeError naming the first bad one. */
export function resolveOptions(options: SSEStreamOptions | undefined): ResolvedOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TypeError(`options must be an object, got ${typeof o}`);
  const status = nonNegativeInt(o, 'status', 200);
  if (status < 200 || status > 599) throw new TypeError(`\`status\` must be an HTTP status code (200-599), got ${status}`);
  const highWaterMark = nonNegativeInt(o, 'highWaterMark', 64 * 1024);
  const maxBuffered = nonNegativeInt(o, 'maxBuffered', 1024 * 1024);
  if (maxBuffered < highWaterMark) {
    throw new TypeError(`\`maxBuffered\` (${maxBuffered}) must be at least \`highWaterMark\` (${highWaterMark})`);
  }
  const policy = o.onSlowConsumer ?? 'close';
  if (policy !== 'close' && policy !== 'drop') {
    throw new TypeError(`\`onSlowConsumer\` must be 'close' or 'drop', got ${String(policy)}`);
  }
  const headers = o.headers ?? NO_HEADERS;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new TypeError('`headers` must be an object of header names to values');
  }
  for (const [k, v] of Object.entries(headers)) {
    const ok = typeof v === 'string' || typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    if (!ok) throw new TypeError(`\`headers\`: the value of ${JSON.stringify(k)} must be a string, number or string[]`);
    // Checked here so both sinks refuse before anything is written (res.writeHead
    // would throw only after the stream took the response).
    if (!HEADER_NAME.test(k)) throw new TypeError(`\`headers\`: invalid header name ${JSON.stringify(k)}: must be a token`);
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === 'string' && /[\r\n\0]/.test(x)) {
        throw new TypeError(`\`headers\`: invalid header value ${JSON.stringify(k)}: must hold no CR, LF or NUL`);
      }
    }
  }
  let retry = o.retry === undefined ? undefined : nonNegativeInt(o, 'retry', 0);
  const jitter = nonNegativeInt(o, 'retryJitterMs', 0);
  if (retry !== undefined && jitter > 0) retry += Math.floor(Math.random() * (jitter + 1));
  if (o.adopt !== undefined && typeof o.adopt !== 'boolean') throw new TypeError('`adopt` must be a boolean');
  const keys = o.key === undefined ? NO_KEYS : typeof o.key === 'string' ? [o.key] : o.key;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k === '')) {
    throw new TypeError('`key` must be a non-empty string or an array of them');
  }
  if (o.resume !== undefined && typeof o.resume !== 'boolean') throw new TypeError('`resume` must be a boolean');
  return {
    keys,
    resume: o.resume ?? false,
    status,
    headers,
    retry,
    adopt: o.adopt ?? true,
    highWaterMark,
    maxBuffered,
    onSlowConsumer: policy,
    heartbeatMs: nonNegativeInt(o, 'heartbeatMs', 15000),
    idleTimeoutMs: nonNegativeInt(o, 'idleTimeoutMs', 0),
    maxDurationMs: nonNegativeInt(o, 'maxDurationMs', 0),
  };
}
