// Who may open a stream: the Origin rule (allowOrigins), the proxies whose
// X-Forwarded-For is believed (trustProxy), and what authorize() returns.
// Pure functions over strings; the adapters apply them to a request before
// anything counts or is written.
import { isIP } from 'node:net';
import { argTypeError, argValueError, withCode } from '../common/errors';

/** Origins allowed to open a stream: a list (exact `scheme://host[:port]`, or '*' for any), a RegExp, or a predicate. */
export type AllowOrigins = readonly string[] | RegExp | ((origin: string) => boolean);

/** The proxies whose X-Forwarded-For is believed: addresses and CIDRs ('10.0.0.0/8', '::1'), or a predicate on an address. */
export type TrustProxy = readonly string[] | ((address: string) => boolean);

/**
 * What `authorize` returns: `true` lets the request in; `false` (or
 * nothing) answers 401; `{ status, headers?, message? }` answers with that
 * 4xx status (403 if it is not one), those headers (e.g.
 * `WWW-Authenticate`) and that text. A throw (or a rejected promise)
 * answers 403 and is kept as `closeReason.cause`.
 */
export type AuthorizeResult = boolean | null | undefined | { status: number; headers?: Record<string, string | undefined>; message?: string };

/** @internal A compiled Origin rule: undefined means the option was not set. */
export type OriginTest = (origin: string) => boolean;

/** @internal How a request is refused before any stream opens. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  message: string;
  code: 'SSE_FORBIDDEN' | 'SSE_UNAUTHORIZED' | 'SSE_LIMIT';
  /** For the stream's closeReason: why, and what to do. */
  detail: string;
  cause?: unknown;
}

const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/;

/** @internal Checks and compiles `allowOrigins`; a TypeError naming the fix. */
export function compileOrigins(v: unknown, credentials: boolean): OriginTest {
  if (typeof v === 'function') return v as OriginTest;
  if (v instanceof RegExp) {
    return (origin) => {
      v.lastIndex = 0;
      return v.test(origin);
    };
  }
  const cached = Array.isArray(v) ? originCache.get(v) : undefined;
  if (cached !== undefined) {
    if (cached.any && credentials) throw anyWithCredentials();
    return cached.test;
  }
  if (!Array.isArray(v) || v.some((o) => typeof o !== 'string')) {
    throw argTypeError(`\`allowOrigins\` must be an array of origins like ['https://app.example.com'], a RegExp or a function (origin) => boolean, got ${v === null ? 'null' : typeof v}`);
  }
  const set = new Set<string>();
  let any = false;
  for (const o of v as string[]) {
    if (o === '*') {
      any = true;
      continue;
    }
    const lower = o.toLowerCase();
    if (lower !== 'null' && !ORIGIN.test(lower)) {
      const fixed = lower.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#\s]+)[/?#].*$/, '$1');
      throw argValueError(
        `\`allowOrigins\`: ${JSON.stringify(o)} is not an origin; browsers send scheme://host[:port] with no path or trailing slash${fixed !== lower && ORIGIN.test(fixed) ? ` (write ${JSON.stringify(fixed)})` : ''}`,
      );
    }
    set.add(lower);
  }
  if (any && credentials) throw anyWithCredentials();
  const test: OriginTest = any ? () => true : (origin) => set.has(origin.toLowerCase());
  originCache.set(v, { test, any });
  return test;
}

// Compiled allowOrigins lists, by the array the app passed (usually one constant).
const originCache = new WeakMap<readonly string[], { test: OriginTest; any: boolean }>();

function anyWithCredentials(): TypeError {
  return argValueError("`allowOrigins: ['*']` with `credentials: true` would let every site read your users' streams with their cookies; list the origins instead");
}

/**
 * @internal Whether `origin` (the request's Origin header) may open a
 * stream, and the CORS headers to answer with. No Origin header (a
 * same-origin EventSource in some browsers, curl): allowed, no CORS headers.
 */
export function originHeaders(origin: string | undefined, test: OriginTest, credentials: boolean): Record<string, string> | Refusal {
  if (origin === undefined || origin === '') return { Vary: 'Origin' };
  let ok = false;
  try {
    ok = test(origin) === true;
  } catch {
    ok = false;
  }
  if (!ok) {
    return {
      status: 403,
      headers: { Vary: 'Origin' },
      message: 'Origin not allowed',
      code: 'SSE_FORBIDDEN',
      detail: `refused (403): Origin ${JSON.stringify(origin)} is not allowed by allowOrigins (add it there if it should be)`,
    };
  }
  const h: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  if (credentials) h['Access-Control-Allow-Credentials'] = 'true';
  return h;
}

/** @internal True when `x` is a refusal rather than headers. */
export function isRefusal(x: Record<string, string> | Refusal | undefined): x is Refusal {
  return x !== undefined && typeof (x as Refusal).status === 'number';
}

/** @internal What an authorize() result (or its throw, when `threw`) means. */
export function authorizeVerdict(result: unknown, threw: boolean): Refusal | undefined {
  if (threw) {
    const why = result instanceof Error ? `: ${result.message}` : '';
    return { status: 403, headers: {}, message: 'Forbidden', code: 'SSE_FORBIDDEN', detail: `refused (403): authorize() threw${why} (the error is closeReason.cause)`, cause: result };
  }
  if (result === true) return undefined;
  if (typeof result === 'object' && result !== null && typeof (result as { status?: unknown }).status === 'number') {
    const r = result as { status: number; headers?: Record<string, string>; message?: string };
    const status = Number.isInteger(r.status) && r.status >= 400 && r.status <= 499 ? r.status : 403;
    const headers: Record<string, string> = {};
    if (typeof r.headers === 'object' && r.headers !== null) {
      for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string' && !/[\r\n\0]/.test(v)) headers[k] = v;
    }
    return {
      status,
      headers,
      message: typeof r.message === 'string' ? r.message : status === 401 ? 'Unauthorized' : 'Forbidden',
      code: status === 401 ? 'SSE_UNAUTHORIZED' : 'SSE_FORBIDDEN',
      detail: `refused (${status}): authorize() returned a refusal`,
    };
  }
  return { status: 401, headers: {}, message: 'Unauthorized', code: 'SSE_UNAUTHORIZED', detail: `refused (401): authorize() returned ${String(result)} (return true to let the request in)` };
}

/** @internal authorize's answer (it may be async): null to let in, else the refusal. */
export async function askAuthorize(authorize: (req: never) => unknown, req: unknown): Promise<Refusal | null> {
  try {
    return authorizeVerdict(await authorize(req as never), false) ?? null;
  } catch (err) {
    return authorizeVerdict(err, true)!;
  }
}

/**
 * @internal authorize's answer when it must be synchronous (createSSEStream):
 * a Promise is a TypeError (ERR_INVALID_RETURN_VALUE) naming `instead`.
 */
export function authorizeNow(authorize: (req: never) => unknown, req: unknown, instead: string): Refusal | null {
  let result: unknown;
  try {
    result = authorize(req as never);
  } catch (err) {
    return authorizeVerdict(err, true)!;
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    (result as Promise<unknown>).then(undefined, () => {});
    throw withCode(
      new TypeError(`\`authorize\` returned a Promise, but createSSEStream decides at once: use ${instead}, or make authorize synchronous`),
      'ERR_INVALID_RETURN_VALUE',
    );
  }
  return authorizeVerdict(result, false) ?? null;
}

// Compiled trustProxy lists, by the array the app passed (usually one constant).
const trustCache = new WeakMap<readonly string[], (address: string) => boolean>();

/** @internal Checks and compiles `trustProxy`; a TypeError naming the fix. */
export function compileTrust(v: unknown): (address: string) => boolean {
  if (typeof v === 'function') return v as (address: string) => boolean;
  if (!Array.isArray(v) || v.some((o) => typeof o !== 'string')) {
    throw argTypeError(`\`trustProxy\` must be an array of proxy addresses or CIDRs like ['10.0.0.0/8', '::1'], or a function (address) => boolean, got ${v === null ? 'null' : typeof v}`);
  }
  const cached = trustCache.get(v);
  if (cached) return cached;
  const v4: [number, number][] = [];
  const v6: [Uint16Array, number][] = [];
  for (const entry of v as string[]) {
    const [addr, bits, extra] = entry.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || extra !== undefined || bits === '' || !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max)) {
      throw argValueError(`\`trustProxy\`: ${JSON.stringify(entry)} is not an address or a CIDR (like '10.0.0.0/8' or 'fd00::/8')`);
    }
    if (family === 4) v4.push([ipv4(addr), prefix]);
    else v6.push([ipv6(addr), prefix]);
  }
  // Plain integer compares: net.BlockList.check costs tens of microseconds a call.
  const test = (address: string) => {
    const a4 = parseIPv4(address);
    if (a4 >= 0) {
      for (const [base, prefix] of v4) if (prefix === 0 || (a4 ^ base) >>> (32 - prefix) === 0) return true;
      return false;
    }
    if (v6.length === 0 || isIP(address) !== 6) return false;
    const a = ipv6(address);
    for (const [base, prefix] of v6) if (sameBits(a, base, prefix)) return true;
    return false;
  };
  trustCache.set(v, test);
  return test;
}

// A dotted-decimal IPv4 address as an unsigned 32-bit number, or -1 when
// `a` is not one (the hot path: no regular expression, no allocation).
function parseIPv4(a: string): number {
  let n = 0;
  let part = -1;
  let dots = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) {
      if (part < 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = -1;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + (c - 48);
      if (part > 255) return -1;
    } else return -1;
  }
  if (part < 0 || dots !== 3) return -1;
  return n * 256 + part;
}

// A dotted IPv4 address (checked by isIP) as an unsigned 32-bit number.
function ipv4(a: string): number {
  const p = a.split('.');
  return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
}

// An IPv6 address (checked by isIP; '::' and a dotted IPv4 tail allowed) as eight 16-bit groups.
function ipv6(a: string): Uint16Array {
  const out = new Uint16Array(8);
  let s = a;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const g: number[] = [];
    for (const x of part.split(':')) {
      if (x.includes('.')) {
        const n = ipv4(x);
        g.push(n >>> 16, n & 0xffff);
      } else g.push(parseInt(x, 16));
    }
    return g;
  };
  const gap = s.indexOf('::');
  const head = groups(gap >= 0 ? s.slice(0, gap) : s);
  const tail = gap >= 0 ? groups(s.slice(gap + 2)) : [];
  head.forEach((x, i) => (out[i] = x));
  tail.forEach((x, i) => (out[8 - tail.length + i] = x));
  return out;
}

function sameBits(a: Uint16Array, b: Uint16Array, prefix: number): boolean {
  let i = 0;
  for (; prefix >= 16; prefix -= 16, i++) if (a[i] !== b[i]) return false;
  return prefix === 0 || ((a[i] ^ b[i]) >> (16 - prefix)) === 0;
}

// '::ffff:10.0.0.1' -> '10.0.0.1'; '10.0.0.1:5000' -> '10.0.0.1'; '[::1]:5000' -> '::1'.
function plainAddress(a: string): string {
  if (parseIPv4(a) >= 0) return a;
  let s = a.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracket) s = bracket[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(s)) s = s.slice(7);
  return s;
}

/**
 * @internal The client's address: the peer's, unless the peer is a trusted
 * proxy; then the rightmost X-Forwarded-For hop that is not trusted (the
 * leftmost when all are). A hop that is not an address ends the walk at the
 * last trusted one. No `trust`: the peer, as node:http reports it.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | readonly string[] | null | undefined, trust: ((address: string) => boolean) | undefined): string | undefined {
  if (peer === undefined || peer === '' || trust === undefined) return peer === '' ? undefined : peer;
  let address = plainAddress(peer);
  if (!safeTrust(trust, address)) return address;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const hops = (header as string).split(',').map((h) => h.trim()).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i]);
    if (parseIPv4(hop) < 0 && isIP(hop) === 0) break;
    address = hop;
    if (!safeTrust(trust, hop)) break;
  }
  return address;
}

function safeTrust(trust: (address: string) => boolean, address: string): boolean {
  try {
    return trust(address) === true;
  } catch {
    return false;
  }
}
