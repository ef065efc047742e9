// encodeEvent / encodeNDJSON: validate in JS, encode in the core.
import { argTypeError, argValueError } from '../common/errors';
import { native } from './binding';
import type { EventMap } from '../common/events';

/** One Server-Sent Event. Every field is optional. */
export interface SSEMessage {
  /** Event type (`event:`); no CR or LF. */
  event?: string;
  /** Payload: a string is sent as it is, anything else is `JSON.stringify`-ed. */
  data?: unknown;
  /** Event ID (`id:`) for `Last-Event-ID`; a number is sent in decimal. No CR, LF or NUL. */
  id?: string | number;
  /** Reconnection time in milliseconds (`retry:`): a non-negative integer. */
  retry?: number;
  /** A comment line (`: text`), ignored by clients; useful as a keepalive. */
  comment?: string;
}

/** Event names to the type of their data, for typed streams: `SSEStream<{ progress: { pct: number }; done: string }>`. */
export type { EventMap };

/** A message of a typed stream: `event` is one of E's names and `data` its type. */
export type TypedMessage<E extends EventMap> = {
  [K in keyof E & string]: Omit<SSEMessage, 'event' | 'data'> & { event: K; data: E[K] };
}[keyof E & string];

/** What send() takes: any SSEMessage on an untyped stream, a TypedMessage on a typed one. */
export type MessageOf<E extends EventMap> = EventMap extends E ? SSEMessage : TypedMessage<E>;

/** Serializes `data` by the data rule, or throws a TypeError naming `field`. */
export function serializeData(data: unknown, field = 'data'): string | undefined {
  if (data === undefined) return undefined;
  if (typeof data === 'string') return data;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw argValueError(`\`${field}\` cannot be serialized to JSON: ${(err as Error).message}; pass a string, or a value JSON.stringify accepts (convert BigInts, remove cycles)`);
  }
  if (json === undefined) {
    throw argValueError(`\`${field}\` cannot be serialized to JSON (got ${typeof data}); pass a string, or a value JSON.stringify accepts`);
  }
  return json;
}

// Takes the value, not the message: `msg[field]` with a variable key is a
// megamorphic load on every send.
function optionalString(v: unknown, field: 'event' | 'comment'): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw argTypeError(`\`${field}\` must be a string, got ${typeof v}`);
  return v;
}

/**
 * Validates a message and returns the arguments the core encoder takes.
 * Throws a TypeError naming the bad field; nothing is encoded then.
 */
export type MessageArgs = [
  event: string | undefined,
  data: string | undefined,
  id: string | undefined,
  retry: number | undefined,
  comment: string | undefined,
];

export function messageArgs(msg: SSEMessage): MessageArgs {
  if (msg === null || typeof msg !== 'object') {
    throw argTypeError(`expected a message object like { data, event?, id?, retry? }, got ${msg === null ? 'null' : typeof msg}`);
  }
  const event = optionalString(msg.event, 'event');
  const comment = optionalString(msg.comment, 'comment');
  let id: string | undefined;
  if (msg.id !== undefined) {
    if (typeof msg.id === 'string') id = msg.id;
    else if (typeof msg.id === 'number' && Number.isFinite(msg.id)) id = String(msg.id);
    else throw argTypeError(`\`id\` must be a string or a finite number, got ${typeof msg.id}`);
  }
  const retry = msg.retry;
  if (retry !== undefined && !(typeof retry === 'number' && Number.isSafeInteger(retry) && retry >= 0)) {
    throw argValueError(`\`retry\` must be a non-negative integer (milliseconds), got ${String(retry)}`);
  }
  return [event, serializeData(msg.data), id, retry, comment];
}

/**
 * Encodes one event to its wire bytes. Throws a TypeError (naming the field)
 * for an `event` holding CR or LF, an `id` holding CR, LF or NUL, a negative or non-integer
 * `retry`, or `data` that JSON cannot serialize.
 */
export function encodeEvent(msg: SSEMessage): Buffer {
  return encodeArgs(messageArgs(msg));
}

/** Encodes validated fields (see messageArgs); TypeError for CR/LF in `event`, CR/LF/NUL in `id`. */
export function encodeArgs([event, data, id, retry, comment]: MessageArgs): Buffer {
  let n = native.encodeEventInto(pool, used, event, data, id, retry, comment);
  if (n === 0) {
    newPool(native.lastNeeded());
    n = native.encodeEventInto(pool, used, event, data, id, retry, comment);
  }
  const out = pool.subarray(used, used + n);
  used = (used + n + 7) & ~7;
  return out;
}

// Frames are encoded into a slab and handed out as views, as Buffer.from()
// does with Node's pool: one backing store per 64 KiB, not per frame.
const POOL_SIZE = 64 * 1024;
let pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let used = 0;

function newPool(atLeast: number): void {
  pool = Buffer.allocUnsafeSlow(Math.max(POOL_SIZE, atLeast));
  used = 0;
}

/** One NDJSON line: `JSON.stringify(value)` and a newline. */
export function encodeNDJSON(value: unknown): Buffer {
  const json = typeof value === 'string' ? JSON.stringify(value) : serializeData(value, 'value');
  if (json === undefined) throw argTypeError('`value` cannot be serialized to JSON (got undefined)');
  return native.encodeNDJSON(json);
}
