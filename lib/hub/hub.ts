// The hub's JS face: argument checks over the core's registry (native/core/
// hub.h), the only place membership, counts and limits live. Every member
// has a core member id: streams (whatever their sink) and send functions
// (seed 002's `registerConnection(key, send)`), which are function members
// the core lists on each broadcast. A broadcast is encoded once in the core
// and queued on every stream member there; no JS runs per stream member.
import { argTypeError, argValueError } from '../common/errors';
import { C, native } from '../native/binding';
import { messageArgs, type EventMap, type MessageArgs, type SSEMessage, type TypedMessage } from '../native/encoder';
import { SSEStream, watchPressure } from '../stream/stream';
import { getBridge, noteReplay } from './bridge';
import { checkEventSize, effectiveMaxEventBytes } from '../stream/event-size';

/** A hub member: a stream, or a function that is handed each message. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a stream of any event map
export type HubTarget = SSEStream<any> | ((msg: SSEMessage) => unknown);

export interface RegisterOptions {
  /** First send what the stream missed since its lastEventId, from the key's replay ring. */
  resume?: boolean;
}

export interface KeyOptions {
  /** Keep the last `maxEvents` broadcasts (default 1000 when only maxAgeMs is given), none older than `maxAgeMs`; null turns replay off. */
  replay?: { maxEvents?: number; maxAgeMs?: number } | null;
}

export interface BroadcastOptions {
  id?: string | number;
  retry?: number;
}

// Send functions by member id and back: a handle table (the core holds
// which keys each is in).
type SendFn = (msg: SSEMessage) => unknown;
const fnById = new Map<number, SendFn>();
const idByFn = new Map<SendFn, number>();

function checkKey(key: unknown, what: string): asserts key is string {
  if (typeof key !== 'string') throw argTypeError(`${what}: \`key\` must be a non-empty string, got ${typeof key}`);
  if (key === '') throw argValueError(`${what}: \`key\` must be a non-empty string, got an empty string`);
}

function checkTarget(target: unknown, what: string): asserts target is HubTarget {
  if (!(target instanceof SSEStream) && typeof target !== 'function') {
    throw argTypeError(`${what}: the connection must be an SSEStream (from createSSEStream) or a send function, got ${target === null ? 'null' : typeof target}`);
  }
}

function callFunctions(ids: ArrayLike<number>, from: number, msg: SSEMessage): void {
  let firstError: unknown;
  let failed = false;
  for (let i = from; i < ids.length; i++) {
    const fn = fnById.get(ids[i]);
    if (fn === undefined) continue;
    try {
      fn(msg);
    } catch (err) {
      // One throwing send function must not keep the event from the rest.
      if (!failed) {
        failed = true;
        firstError = err;
      }
    }
  }
  if (failed) throw firstError;
}

/**
 * Adds a stream (or a send function) to `key`. A stream may be in many keys
 * and leaves all of them when it closes. With `{ resume: true }` a stream
 * whose request carried Last-Event-ID (or `?lastEventId=`) first receives
 * what it missed from the key's replay ring, then live broadcasts: nothing
 * lost, nothing twice. If that id is no longer in the ring it first gets an
 * `sse-gap` event whose data is `{"lastEventId": "<its id>"}`.
 * Returns false if the stream is already closed.
 */
export function registerConnection(key: string, target: HubTarget, options: RegisterOptions = {}): boolean {
  checkKey(key, 'registerConnection');
  checkTarget(target, 'registerConnection');
  if (typeof options !== 'object' || options === null) throw argTypeError('registerConnection: options must be an object like { resume: true }');
  if (options.resume !== undefined && typeof options.resume !== 'boolean') {
    throw argTypeError(`registerConnection: \`resume\` must be true or false, got ${typeof options.resume}`);
  }
  let id: number;
  let lastId: string | undefined;
  const bridge = getBridge();
  if (target instanceof SSEStream) {
    if (target.ndjson) throw argValueError("registerConnection: an NDJSON stream (format: 'ndjson') cannot join a hub key: broadcasts are SSE frames");
    if (target.closed) return false;
    id = target.memberId;
    // An empty Last-Event-ID means "none" (WHATWG): no replay.
    if (options.resume && target.lastEventId) lastId = target.lastEventId;
    // Another process's events: the bridge replays from its log, then
    // registers the stream itself.
    if (bridge !== undefined && lastId !== undefined && bridge.resume(key, target, lastId)) return true;
  } else {
    const known = idByFn.get(target);
    if (known === undefined) {
      id = native.openFunction();
      fnById.set(id, target);
      idByFn.set(target, id);
    } else {
      id = known;
    }
  }
  if (bridge !== undefined && native.hubCount(key) === 0) bridge.watch(key);
  // The core replays and joins in one step: no broadcast falls between.
  const r = native.hubJoin(key, id, lastId);
  if (r === C.Join.CLOSED) return false;
  return true;
}

/**
 * @internal A member with no SSEStream handle (listenSSE's
 * req.subscribe()) joins `key`; the core replays from `lastId` and joins in
 * one step. Under a bridge, the replay comes from this process's ring.
 */
export function joinMember(key: string, id: number, lastId: string | undefined): boolean {
  const bridge = getBridge();
  if (bridge !== undefined && native.hubCount(key) === 0) bridge.watch(key);
  return native.hubJoin(key, id, lastId) !== C.Join.CLOSED;
}

/** Removes a stream or send function from `key`; true if it was a member. */
export function unregisterConnection(key: string, target: HubTarget): boolean {
  checkKey(key, 'unregisterConnection');
  checkTarget(target, 'unregisterConnection');
  if (target instanceof SSEStream) return !target.closed && native.hubLeave(key, target.memberId);
  const id = idByFn.get(target);
  if (id === undefined) return false;
  const was = native.hubLeave(key, id);
  if (native.memberKeyCount(id) === 0) {
    // In no key any more: the function member goes.
    fnById.delete(id);
    idByFn.delete(target);
    native.close(id, false);
  }
  return was;
}

/**
 * Sends one event to every member of `key`: `broadcast(key, event, data,
 * { id, retry }?)` or `broadcast(key, msg)`. Encoded once in the core;
 * every stream member gets a reference to the same frame, queued in C++,
 * whatever its sink; send functions are called with the message. When the
 * key keeps a replay ring and no id is given, the next id of the key is used
 * ("1", "2", ...). Backpressure policies apply per member: a slow member is
 * dropped or closed, the others are not held up. Returns how many members
 * it was handed to. A bad field is a TypeError (with a `code`), an event
 * over setLimits' `maxEventBytes` (the frame, before an id the key assigns)
 * a RangeError (ERR_OUT_OF_RANGE); nobody gets anything then.
 */
export function broadcast(key: string, msg: SSEMessage): number;
export function broadcast(key: string, event: string, data: unknown, options?: BroadcastOptions): number;
/** Typed: `broadcast<Events>(key, { event, data })` checks the name and the data against Events. */
export function broadcast<E extends EventMap>(key: string, msg: TypedMessage<E>): number;
/** Typed: `broadcast<Events>(key, event, data)`; data must be one of Events' data types. */
export function broadcast<E extends EventMap, K extends keyof E & string = keyof E & string>(
  key: string,
  event: K,
  data: E[K],
  options?: BroadcastOptions,
): number;
export function broadcast(key: string, eventOrMsg: string | SSEMessage, data?: unknown, options?: BroadcastOptions): number {
  checkKey(key, 'broadcast');
  let msg: SSEMessage;
  if (typeof eventOrMsg === 'string') {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw argTypeError('broadcast: options must be an object like { id?, retry? }');
    }
    msg = { event: eventOrMsg, data, id: options?.id, retry: options?.retry };
  } else {
    msg = eventOrMsg;
  }
  const a = messageArgs(msg);
  checkEventSize(a, effectiveMaxEventBytes(undefined), 'broadcast');
  // Through a bridge (sse-native/redis) it comes back to deliverLocal.
  if (getBridge()?.publish(key, msg, a)) return native.hubCount(key);
  return deliverArgs(key, msg, a);
}

function deliverArgs(key: string, msg: SSEMessage, a: MessageArgs): number {
  const r = native.hubBroadcast(key, a[0], a[1], a[2], a[3], a[4]);
  if (typeof r === 'number') return r;
  if (r === undefined) return 0; // the environment (a Worker) is being torn down
  callFunctions(r, 1, msg);
  return r[0];
}

/**
 * @internal A broadcast to this process's members only, with its id as
 * given (a bridge delivering what its transport handed back).
 */
export function deliverLocal(key: string, msg: SSEMessage): number {
  return deliverArgs(key, msg, messageArgs(msg));
}

// A broadcast from another thread (a Worker, or the main thread seen from a
// Worker): the core queued it on this thread's stream members; the send
// functions among the key's members are called here.
native.setRemote((_key, ids, event, data, id, retry) => {
  callFunctions(ids, 0, { event, data, id, retry });
});

/** Members of `key` (every kind of sink, and send functions); without a key, distinct members of every key. */
export function getConnectionCount(key?: string): number {
  if (key === undefined) return native.hubCount();
  checkKey(key, 'getConnectionCount');
  return native.hubCount(key);
}

/**
 * Streams of `key` on this thread whose queue is above their highWaterMark:
 * the broadcast backpressure signal. 0 means every member took what it was
 * sent (up to its highWaterMark).
 */
export function getBackpressure(key: string): number {
  checkKey(key, 'getBackpressure');
  return native.hubPressure(key);
}

/**
 * Settles when no stream of `key` (on this thread) is above its
 * highWaterMark: a producer that awaits it between broadcasts never queues
 * more than a highWaterMark per member. A member that stays stuck is closed
 * by the slow-consumer rule (slowConsumerMs), so this settles within about
 * slowConsumerMs even when a client stops reading.
 *
 * @example
 * for await (const token of tokens) {
 *   broadcast(room, 'token', token);
 *   if (getBackpressure(room) > 0) await drained(room);
 * }
 */
export function drained(key: string): Promise<void> {
  checkKey(key, 'drained');
  if (native.hubPressure(key) === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = watchPressure(() => {
      if (native.hubPressure(key) !== 0) return;
      stop();
      resolve();
    });
  });
}

/** Keys with at least one member. */
export function getConnectionKeys(): string[] {
  return Object.keys(native.hubKeys());
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw argTypeError(`${what} must be a non-negative integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** Per-key settings: `{ replay: { maxEvents, maxAgeMs } }` keeps a replay ring. */
export function configureKey(key: string, options: KeyOptions): void {
  checkKey(key, 'configureKey');
  if (typeof options !== 'object' || options === null) throw argTypeError('configureKey: options must be an object like { replay: { maxEvents: 100 } }');
  const replay = options.replay;
  if (replay === undefined) return;
  if (replay === null) {
    native.hubConfigure(key, 0, 0);
    noteReplay(key, 0, 0);
    return;
  }
  if (typeof replay !== 'object') throw argTypeError('configureKey: `replay` must be an object like { maxEvents, maxAgeMs }');
  const maxAgeMs = replay.maxAgeMs === undefined ? 0 : nonNegativeInt(replay.maxAgeMs, 'configureKey: `replay.maxAgeMs`');
  const maxEvents = replay.maxEvents === undefined ? 1000 : nonNegativeInt(replay.maxEvents, 'configureKey: `replay.maxEvents`');
  native.hubConfigure(key, maxEvents, maxAgeMs);
  noteReplay(key, maxEvents, maxAgeMs);
}
