// The package's error model, Node's convention: a wrong argument type is a
// TypeError with code ERR_INVALID_ARG_TYPE, a bad value a TypeError
// (ERR_INVALID_ARG_VALUE) or RangeError (ERR_OUT_OF_RANGE); state and limit
// errors are an SSEError with an `SSE_*` code. Users branch on `code`, never
// on message text. No Node and no addon: the client floor uses it too.

/** The `code` of every SSEError this package throws or reports. */
export type SSEErrorCode =
  | 'SSE_CLOSED'
  | 'SSE_LIMIT'
  | 'SSE_UNAUTHORIZED'
  | 'SSE_FORBIDDEN'
  | 'SSE_SLOW_CONSUMER'
  | 'SSE_CLIENT_GONE'
  | 'SSE_TIMEOUT'
  | 'SSE_ALREADY_MEMBER'
  | 'SSE_NOT_MEMBER'
  | 'SSE_ALREADY_STREAMING'
  | 'SSE_NO_MEMORY'
  | 'SSE_NO_LOOP'
  | 'SSE_ADOPT_FAILED'
  | 'SSE_CONNECTION_ERROR';

/**
 * A state or limit error: a stream that closed, a limit reached, a slow
 * consumer. `code` is stable; `syscallCode`/`errno` carry the libuv error
 * (e.g. ECONNRESET) when a socket error closed the stream.
 */
export class SSEError extends Error {
  readonly code: SSEErrorCode;
  /** The libuv error name behind it (e.g. 'ECONNRESET'), when a socket error closed the stream. */
  syscallCode?: string;
  /** The libuv error number behind it, when there is one. */
  errno?: number;
  constructor(code: SSEErrorCode, message: string) {
    super(message);
    this.name = 'SSEError';
    this.code = code;
  }
}

type WithCode<E extends Error> = E & { code: string };

/** A TypeError with Node's `code` (ERR_INVALID_ARG_TYPE for a wrong type). */
export function argTypeError(message: string): WithCode<TypeError> {
  return withCode(new TypeError(message), 'ERR_INVALID_ARG_TYPE');
}

/** A TypeError for a value of the right type but not allowed (ERR_INVALID_ARG_VALUE). */
export function argValueError(message: string): WithCode<TypeError> {
  return withCode(new TypeError(message), 'ERR_INVALID_ARG_VALUE');
}

/** A RangeError for a number outside what is allowed (ERR_OUT_OF_RANGE). */
export function rangeError(message: string): WithCode<RangeError> {
  return withCode(new RangeError(message), 'ERR_OUT_OF_RANGE');
}

/** Sets `code` the way Node's own errors carry it (an own, enumerable property). */
export function withCode<E extends Error>(err: E, code: string): WithCode<E> {
  (err as WithCode<E>).code = code;
  return err as WithCode<E>;
}

/**
 * The factory the addon throws through (registered at load): its errors are
 * this package's classes in the caller's realm.
 */
export function makeError(kind: string, code: string, message: string): Error {
  if (kind === 'TypeError') return withCode(new TypeError(message), code);
  if (kind === 'RangeError') return withCode(new RangeError(message), code);
  return new SSEError(code as SSEErrorCode, message);
}
