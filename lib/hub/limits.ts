// Connection limits, checked before a request is adopted: per process, per
// hub key, per client address. Past one the request gets 503 + Retry-After.
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

let limits: Required<ConnectionLimits> = { maxConnections: Infinity, maxConnectionsPerKey: Infinity, maxConnectionsPerAddress: Infinity, retryAfterSeconds: 5 };
const perAddress = new Map<string, number>();

function limit(v: unknown, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`setLimits: \`${what}\` must be a non-negative integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** Sets every limit at once; a limit left out is no limit. `setLimits({})` removes them all. */
export function setLimits(l: ConnectionLimits): void {
  if (typeof l !== 'object' || l === null) throw new TypeError('setLimits: expected an object of limits');
  limits = {
    maxConnections: limit(l.maxConnections, 'maxConnections', Infinity),
    maxConnectionsPerKey: limit(l.maxConnectionsPerKey, 'maxConnectionsPerKey', Infinity),
    maxConnectionsPerAddress: limit(l.maxConnectionsPerAddress, 'maxConnectionsPerAddress', Infinity),
    retryAfterSeconds: limit(l.retryAfterSeconds, 'retryAfterSeconds', 5),
  };
}

/** @internal The limit a new stream would pass, or undefined if none. */
export function overLimit(open: number, address: string | undefined, keyCounts: number[]): string | undefined {
  if (open >= limits.maxConnections) return 'maxConnections';
  if (keyCounts.some((n) => n >= limits.maxConnectionsPerKey)) return 'maxConnectionsPerKey';
  if (address !== undefined && (perAddress.get(address) ?? 0) >= limits.maxConnectionsPerAddress) return 'maxConnectionsPerAddress';
  return undefined;
}

/** @internal */
export function retryAfterSeconds(): number {
  return limits.retryAfterSeconds;
}

/** @internal Counts an open stream against its client address (always, so a limit set later sees them). */
export function holdAddress(address: string): void {
  perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
}

/** @internal The stream of holdAddress() closed. */
export function releaseAddress(address: string): void {
  const n = (perAddress.get(address) ?? 1) - 1;
  if (n <= 0) perAddress.delete(address);
  else perAddress.set(address, n);
}
