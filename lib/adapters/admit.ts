// Who may open a stream: one order for every adapter (node:http, fetch-style,
// the core's listener), before anything counts or is written.
import { limitError, overLimit, rateError, retryAfterSeconds, takeConnectToken } from '../hub/limits';
import type { ResolvedOptions } from '../stream/options';
import { authorizeNow, clientAddress, isRefusal, originHeaders, type Refusal } from '../stream/access';

/** What admit() needs to know of a request. */
export interface AdmitFacts {
  /** The Origin header, if any. */
  origin: string | undefined;
  /** The socket's peer address (undefined when unknown). */
  peer: string | undefined;
  /** X-Forwarded-For, for trustProxy. */
  forwardedFor: string | readonly string[] | null | undefined;
  /** What authorize is called with (the request). */
  request: unknown;
  /** authorize's answer when the caller already awaited it (null: let in); undefined: ask now, synchronously. */
  asked: Refusal | null | undefined;
  /** Named in the error when authorize returns a Promise but must answer at once. */
  instead: string;
}

/** Let in: the CORS headers to send (allowOrigins) and the client's address. */
export interface Admitted<T> {
  cors: Record<string, string> | undefined;
  address: string | undefined;
  /** What `prepare` returned. */
  prepared: T;
}

/**
 * The Origin against allowOrigins, then authorize, then `prepare(cors)`
 * (the caller builds its head there, so a bad header throws before anything
 * counts), then the connect rate of the client's address, then the
 * connection limits; each step only if the one before let the request
 * through. A refusal carries the CORS headers of an allowed origin.
 */
export function admit<T = undefined>(opts: ResolvedOptions, facts: AdmitFacts, prepare?: (cors: Record<string, string> | undefined) => T): Admitted<T> | { refusal: Refusal } {
  const origin = opts.origins === undefined ? undefined : originHeaders(facts.origin, opts.origins, opts.credentials);
  if (isRefusal(origin)) return { refusal: origin };
  if (opts.authorize !== undefined) {
    const refusal = facts.asked === undefined ? authorizeNow(opts.authorize, facts.request, facts.instead) : facts.asked;
    if (refusal !== null) return { refusal: { ...refusal, headers: { ...origin, ...refusal.headers } } };
  }
  const prepared = prepare?.(origin) as T;
  const address = clientAddress(facts.peer, facts.forwardedFor, opts.trust);
  const wait = takeConnectToken(address);
  if (wait > 0) return { refusal: rateRefusal(wait, origin) };
  const over = overLimit(address, opts.keys);
  if (over !== undefined) return { refusal: limitRefusal(over, origin) };
  return { cors: origin, address, prepared };
}

/** @internal The 429 of a client over connectRatePerAddress. */
export function rateRefusal(seconds: number, cors?: Record<string, string>): Refusal {
  const err = rateError();
  return { status: 429, headers: { ...cors, 'Retry-After': String(seconds) }, message: `Too many new connections from this address; retry in ${seconds} s`, code: 'SSE_LIMIT', detail: err.message };
}

/** @internal The 503 of a connection limit. */
export function limitRefusal(limit: string, cors?: Record<string, string>): Refusal {
  const seconds = retryAfterSeconds();
  return { status: 503, headers: { ...cors, 'Retry-After': String(seconds) }, message: `Too many connections (${limit}); retry in ${seconds} s`, code: 'SSE_LIMIT', detail: limitError(limit).message };
}
