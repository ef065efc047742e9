// Connection limits: per process (this thread), per hub key, per client
// address, kept and checked by the core before a stream opens. Past one the
// request gets 503 + Retry-After.
import { SSEError, argTypeError } from '../common/errors';
import { C, native } from '../native/binding';

export interface ConnectionLimits {
  /** Open streams per process (this thread). */
  maxConnections?: number;
  /** Members per hub key, for streams created with the `key` option. */
  maxConnectionsPerKey?: number;
  /** Open streams per client address (req.socket.remoteAddress). */
  maxConnectionsPerAddress?: number;
  /** The Retry-After of a refusal, in seconds (default 5). */
  retryAfterSeconds?: number;
}

let retryAfter = 5;

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
  native.setLimits({ maxConnections, maxPerKey, maxPerAddress });
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

/** @internal The closeReason of a stream a limit refused. */
export function limitError(limit: string): SSEError {
  return new SSEError('SSE_LIMIT', `connection refused: ${limit} reached (raise it with setLimits, or add processes)`);
}
