// Options every client shares (EventSource, fetchEventSource, events()):
// the buffer limit and the reconnection backoff. Imports nothing from node:.

/**
 * The default `maxBufferSize`: 8 MiB of pending line plus pending event data.
 * Far above what a well-behaved server puts in one event (LLM token streams
 * send well under 1 KiB per event; a base64 image in one event is a few MiB),
 * while a stream that never ends its line costs at most this (about twice it
 * as JavaScript strings) instead of growing past a gigabyte.
 */
export const kDefaultMaxBufferSize = 8 * 1024 * 1024;

/** The parser's maxBufferSize for a client option: a positive integer, or Infinity for none (undefined). */
export function resolveMaxBufferSize(value: unknown): number | undefined {
  if (value === undefined) return kDefaultMaxBufferSize;
  if (value === Infinity) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw new TypeError(`\`maxBufferSize\` must be a positive integer number of bytes (or Infinity for no limit), got ${String(value)}`);
}

/** The floor of a backoff after a failed reconnect when the server's `retry` is smaller (even 0). */
export const kMinBackoffMs = 250;
/** EventSource's cap for its backoff (a larger server `retry` is still honoured). */
export const kMaxBackoffMs = 30_000;
/** A connection open this long counts as healthy even without an event (an idle stream that ended). */
export const kHealthyMs = 10_000;

/**
 * The wait before reconnect number `streak` of a run of unhealthy
 * connections (1 = the first since a healthy one): exactly `retryMs` for the
 * first, as the spec says (even 0); then doubling from max(retryMs,
 * kMinBackoffMs), capped at max(maxMs, retryMs). A connection is healthy
 * when it delivered an event or stayed open kHealthyMs.
 */
export function reconnectDelay(streak: number, retryMs: number, maxMs = kMaxBackoffMs): number {
  if (streak <= 1) return retryMs;
  const grown = Math.max(retryMs, kMinBackoffMs) * 2 ** Math.min(streak - 1, 40);
  return Math.min(grown, Math.max(maxMs, retryMs));
}

/** Header-safe byte string of the id, UTF-8 encoded as browsers send it; undefined if it cannot be a header value. */
export function lastEventIdHeader(id: string): string | undefined {
  if (id === '') return undefined;
  let ascii = true;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    // HTTP field values hold HTAB, SP, VCHAR and obs-text only: Node refuses
    // the rest (ERR_INVALID_CHAR), fetch refuses CR/LF/NUL. The parser never
    // yields CR, LF or NUL in an id, but other controls can come through.
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return id;
  // Each byte of the UTF-8 form as one char: Node writes header strings as
  // latin1 and fetch takes a ByteString, so the bytes go out unchanged.
  const bytes = new TextEncoder().encode(id);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}
