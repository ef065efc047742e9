// Connection limits: per process (this thread), per hub key, per client
// address, kept and checked by the core before a stream opens. Past one the
// request gets 503 + Retry-After. A rate of new streams per client address
// (a token bucket, here) answers 429 + Retry-After. maxEventBytes bounds
// the events send() and broadcast() take.
import { SSEError, argTypeError } from '../common/errors';
import { C, native } from '../native/binding';
import { setMaxEventBytes } from '../stream/event-size';
import type { Refusal } from '../stream/access';

export interface ConnectionLimits {
  /** Open streams per process (this thread). */
  maxConnections?: number;
  /** Members per hub key, for streams created with the `key` option. */
  maxConnectionsPerKey?: number;
  /** Open streams per client address (req.socket.remoteAddress). */
  maxConnectionsPerAddress?: number;
  /** The Retry-After of a refusal, in seconds (default 5). */
  retryAfterSeconds?: number;
  /**
   * New streams per client address (see the `trustProxy` option for
   * clients behind proxies): a token bucket holding `tokens`, refilled at
   * `tokens` per `perMs`. An address with no token left gets 429 with
   * Retry-After (the seconds until its next token). Web streams count with
   * an `address` option.
   */
  connectRatePerAddress?: { tokens: number; perMs: number };
  /**
   * The largest event frame, in bytes on the wire, that send() and
   * broadcast() take; a stream's own `maxEventBytes` wins for its send().
   * Over it: RangeError (code ERR_OUT_OF_RANGE), nothing sent.
   */
  maxEventBytes?: number;
}

let retryAfter = 5;

// Requests refused before a stream opened, by what refused them (this thread).
const refusals = { rateLimited: 0, denied: 0 };

/** @internal Counts a request the connect rate (429) or allowOrigins/authorize (401/403) refused. */
export function noteRefusal(kind: 'rateLimited' | 'denied'): void {
  refusals[kind]++;
}

/** @internal The counts noteRefusal() kept. */
export function refusalCounts(): { rateLimited: number; denied: number } {
  return { ...refusals };
}

// The connect-rate token buckets, by address. A bucket that refilled is
// the same as none: those are swept once the map doubled since the last
// sweep, so it holds about the addresses seen within one refill time.
interface Bucket {
  level: number;
  at: number;
}
let rate: { tokens: number; perMs: number } | undefined;
const buckets = new Map<string, Bucket>();
let sweepAt = 1024;

function limit(v: unknown, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw argTypeError(`setLimits: \`${what}\` must be a non-negative integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** Sets every limit at once; a limit left out is no limit. `setLimits({})` removes them all. */
export function setLimits(l: ConnectionLimits): void {
  if (typeof l !== 'object' || l === null) throw argTypeError('setLimits: pass an object of limits like { maxConnections: 10000 }');
  const maxConnections = limit(l.maxConnections, 'maxConnections', -1);
  const maxPerKey = limit(l.maxConnectionsPerKey, 'maxConnectionsPerKey', -1);
  const maxPerAddress = limit(l.maxConnectionsPerAddress, 'maxConnectionsPerAddress', -1);
  retryAfter = limit(l.retryAfterSeconds, 'retryAfterSeconds', 5);
  const r = l.connectRatePerAddress;
  let newRate: typeof rate;
  if (r !== undefined) {
    if (typeof r !== 'object' || r === null) {
      throw argTypeError('setLimits: `connectRatePerAddress` must be an object like { tokens: 10, perMs: 60000 } (10 new streams a minute per address)');
    }
    const tokens = limit(r.tokens, 'connectRatePerAddress.tokens', 0);
    const perMs = limit(r.perMs, 'connectRatePerAddress.perMs', 0);
    if (tokens < 1 || perMs < 1) {
      throw argTypeError(`setLimits: \`connectRatePerAddress\` needs tokens >= 1 and perMs >= 1, got { tokens: ${tokens}, perMs: ${perMs} }`);
    }
    newRate = { tokens, perMs };
  }
  const maxEventBytes = limit(l.maxEventBytes, 'maxEventBytes', 0);
  native.setLimits({ maxConnections, maxPerKey, maxPerAddress });
  setMaxEventBytes(maxEventBytes);
  rate = newRate;
  buckets.clear();
  sweepAt = 1024;
}

/**
 * @internal Takes one connect token for `address`: 0 when it had one, else
 * the seconds until it has (for Retry-After). No address or no rate set: 0.
 */
export function takeConnectToken(address: string | undefined, now = Date.now()): number {
  if (rate === undefined || address === undefined || address === '') return 0;
  const perMsRate = rate.tokens / rate.perMs;
  let b = buckets.get(address);
  if (b === undefined) {
    if (buckets.size >= sweepAt) sweep(now, perMsRate);
    b = { level: rate.tokens, at: now };
    buckets.set(address, b);
  } else {
    b.level = Math.min(rate.tokens, b.level + (now - b.at) * perMsRate);
    b.at = now;
  }
  if (b.level >= 1) {
    b.level -= 1;
    return 0;
  }
  return Math.max(1, Math.ceil((1 - b.level) / perMsRate / 1000));
}

function sweep(now: number, perMsRate: number): void {
  const full = rate!.tokens;
  for (const [address, b] of buckets) {
    if (b.level + (now - b.at) * perMsRate >= full) buckets.delete(address);
  }
  sweepAt = Math.max(1024, buckets.size * 2);
}

const LIMIT_NAMES: Record<string, string> = {
  LIMIT_CONNECTIONS: 'maxConnections',
  LIMIT_PER_KEY: 'maxConnectionsPerKey',
  LIMIT_PER_ADDRESS: 'maxConnectionsPerAddress',
};

/** @internal The limit a new stream would pass (its option name), or undefined if none. */
export function overLimit(address: string | undefined, keys: readonly string[]): string | undefined {
  const st = native.checkLimits(address, keys);
  if (st === C.Status.OK) return undefined;
  return LIMIT_NAMES[C.statuses[st].name] ?? C.statuses[st].name;
}

/** @internal */
export function retryAfterSeconds(): number {
  return retryAfter;
}

/** @internal The closeReason of a stream the connect rate refused. */
export function rateError(): SSEError {
  return new SSEError('SSE_LIMIT', 'connection refused: connectRatePerAddress reached for this client address (raise it with setLimits)');
}

/** @internal The closeReason of a stream a limit refused. */
export function limitError(limit: string): SSEError {
  return new SSEError('SSE_LIMIT', `connection refused: ${limit} reached (raise it with setLimits, or add processes)`);
}

/** @internal The closeReason of a refused stream (and the refusal counted in the metrics). */
export function refusalError(refusal: Refusal): SSEError {
  if (refusal.status === 429) noteRefusal('rateLimited');
  else if (refusal.code !== 'SSE_LIMIT') noteRefusal('denied');
  const err = new SSEError(refusal.code, refusal.detail);
  if (refusal.cause !== undefined) (err as Error & { cause?: unknown }).cause = refusal.cause;
  return err;
}
