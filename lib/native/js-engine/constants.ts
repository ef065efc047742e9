// The core's constants for the TypeScript engine. The addon exports these at
// init (native/addon/constants.cc); here they are written out once, with the
// same values (the status rows copied from native/core/status.cc), and
// test/19.backend.js.test.ts holds them to the addon's.
import type { NativeConstants, StatusInfo } from '../binding-types';

// libuv's error numbers as Linux has them (uv-errno.h); the JS engine only
// passes them between its own modules and closeReason().
const kErrno = {
  EOF: -4095,
  ENOBUFS: -105,
  ETIMEDOUT: -110,
  ECONNRESET: -104,
  EPIPE: -32,
  ECANCELED: -125,
  ENOTSUP: -95,
  ENOMEM: -12,
  ENOENT: -2,
  EINVAL: -22,
  EADDRINUSE: -98,
};

const kStatuses: StatusInfo[] = [
  ['OK', '', '', ''],
  ['INVALID_EVENT', 'ERR_INVALID_ARG_VALUE', 'TypeError', '`event` must not contain CR or LF: pass a one-line event name (line breaks belong in `data`)'],
  ['INVALID_ID', 'ERR_INVALID_ARG_VALUE', 'TypeError', '`id` must not contain CR, LF or NUL: pass a one-line id (e.g. a counter)'],
  ['INVALID_STATUS_CODE', 'ERR_OUT_OF_RANGE', 'RangeError', 'the status code must be an HTTP status between 100 and 999: pass `status` as a number like 200'],
  ['INVALID_REASON', 'ERR_INVALID_ARG_VALUE', 'TypeError', 'the reason phrase must not contain CR, LF or NUL: pass a one-line reason phrase'],
  ['INVALID_HEADER_NAME', 'ERR_INVALID_HTTP_TOKEN', 'TypeError', 'a header name must be a token: use letters, digits and !#$%&\'*+-.^_`|~ only'],
  ['INVALID_HEADER_VALUE', 'ERR_INVALID_CHAR', 'TypeError', 'a header value must not contain CR, LF or NUL: send one line (encode other text, e.g. with encodeURIComponent)'],
  ['CLOSED', 'SSE_CLOSED', 'SSEError', 'the stream is closed: stop sending once it emitted \'close\' (check `stream.closed`)'],
  ['ALREADY_MEMBER', 'SSE_ALREADY_MEMBER', 'SSEError', 'the stream is already a member of that key: register it once per key'],
  ['NOT_MEMBER', 'SSE_NOT_MEMBER', 'SSEError', 'the stream is not a member of that key: call registerConnection(key, stream) first (a closed stream has left every key)'],
  ['LIMIT_CONNECTIONS', 'SSE_LIMIT', 'SSEError', 'maxConnections reached (raise it with setLimits or add processes)'],
  ['LIMIT_PER_KEY', 'SSE_LIMIT', 'SSEError', 'maxConnectionsPerKey reached for this key (raise it with setLimits)'],
  ['LIMIT_PER_ADDRESS', 'SSE_LIMIT', 'SSEError', 'maxConnectionsPerAddress reached for this client address (raise it with setLimits)'],
  ['SLOW_CONSUMER', 'SSE_SLOW_CONSUMER', 'SSEError', 'the client did not read fast enough (nothing taken for slowConsumerMs above highWaterMark, or more than maxBuffered waiting): await drained() before sending more, raise slowConsumerMs or maxBuffered, or pass onSlowConsumer: \'drop\' to drop events instead'],
  ['NO_MEMORY', 'SSE_NO_MEMORY', 'SSEError', 'out of memory: lower maxBuffered, the replay sizes (configureKey) or the number of connections'],
  ['NO_LOOP', 'SSE_NO_LOOP', 'SSEError', 'this environment has no event loop: create streams from code running on the main thread or in a Worker that is not terminating'],
  ['ADOPT_FAILED', 'SSE_ADOPT_FAILED', 'SSEError', 'the socket could not be adopted (pass { adopt: false } to always use res.write)'],
].map(([name, code, kind, text]) => Object.freeze({ name, code, kind: kind as StatusInfo['kind'], text }));

const kStatus: Record<string, number> = {};
kStatuses.forEach((s, i) => (kStatus[s.name] = i));

/** The same groups and values as the addon's `constants`. */
export const constants: NativeConstants = Object.freeze({
  SendResult: Object.freeze({ SUCCESS: 0, BACKPRESSURE: 1, DROPPED: 2, CLOSED: 3 }),
  Policy: Object.freeze({ CLOSE: 0, DROP: 1 }),
  Notify: Object.freeze({ DRAIN: 0, CLOSE: 1, DATA: 2, DATA_ACCEPTED: 3, REQUEST: 4 }),
  Join: Object.freeze({ JOINED: 0, JOINED_AFTER_GAP: 1, ALREADY: 2, CLOSED: 3 }),
  Errno: Object.freeze({
    EOF: kErrno.EOF,
    ENOBUFS: kErrno.ENOBUFS,
    ETIMEDOUT: kErrno.ETIMEDOUT,
    ECONNRESET: kErrno.ECONNRESET,
    EPIPE: kErrno.EPIPE,
    ECANCELED: kErrno.ECANCELED,
    ENOENT: kErrno.ENOENT,
    EINVAL: kErrno.EINVAL,
    EADDRINUSE: kErrno.EADDRINUSE,
    ENOTSUP: kErrno.ENOTSUP,
  }),
  Status: Object.freeze(kStatus),
  statuses: Object.freeze(kStatuses) as StatusInfo[],
});

/** Errors the JS engine itself reports (adoption unavailable, no memory). */
export const kENOTSUP = kErrno.ENOTSUP;

const kNames = new Map<number, string>(Object.entries(kErrno).map(([k, v]) => [v, k]));

/** uv_err_name() for the codes the JS engine can meet. */
export function errName(code: number): string {
  return kNames.get(code) ?? `Unknown system error ${code}`;
}
