// The hub: keys (channels) to the streams in them. Adopted streams are
// members in the core, which encodes a broadcast once and queues one shared
// frame on each of them with no JS per member; streams written from JS
// (fallback, web) get the same encoded Buffer from one loop here; send
// functions (seed 002's `registerConnection(key, send)`) get the message.
import { frameError, messageArgs, type MessageArgs, type SSEMessage } from '../native/encoder';
import { native } from '../native/binding';
import { NativeSink } from '../stream/sinks/native-sink';
import { jsSinkStats } from '../stream/sinks/sink';
import { SSEStream, openStreamCount } from '../stream/stream';
import { getBridge, noteReplay } from './bridge';

/** A hub member: a stream, or a function that is handed each message. */
export type HubTarget = SSEStream | ((msg: SSEMessage) => unknown);

export interface RegisterOptions {
  /** First send what the stream missed since its lastEventId, from the key's replay ring. */
  resume?: boolean;
}

export interface KeyOptions {
  /** Keep the last `maxEvents` broadcasts (default 1000 when only maxAgeMs is given), none older than `maxAgeMs`; null turns replay off. */
  replay?: { maxEvents?: number; maxAgeMs?: number } | null;
}

interface KeyState {
  /** Every member, for counts and listing. */
  all: Set<HubTarget>;
  /** Members written from JS: streams not adopted, and send functions. */
  js: Set<HubTarget>;
  /** How many of `js` are streams (they need the encoded frame). */
  jsStreams: number;
}

const keys = new Map<string, KeyState>();
// A stream's keys live on the stream (SSEStream.hubKeys: no Map entry, Set
// or listener per member); send functions' keys here.
const fnKeys = new Map<(msg: SSEMessage) => unknown, Set<string>>();
let streamMembers = 0; // streams in at least one key

function checkKey(key: unknown, what: string): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    throw new TypeError(`${what}: \`key\` must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`);
  }
}

function checkTarget(target: unknown, what: string): asserts target is HubTarget {
  if (!(target instanceof SSEStream) && typeof target !== 'function') {
    throw new TypeError(`${what}: the connection must be an SSEStream (from createSSEStream) or a send function, got ${target === null ? 'null' : typeof target}`);
  }
}

function nativeId(target: HubTarget): number | undefined {
  if (!(target instanceof SSEStream)) return undefined;
  const sink = target.currentSink();
  return sink instanceof NativeSink ? sink.id : undefined;
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
  if (typeof options !== 'object' || options === null) throw new TypeError('registerConnection: options must be an object');
  if (options.resume !== undefined && typeof options.resume !== 'boolean') {
    throw new TypeError('registerConnection: `resume` must be a boolean');
  }
  const stream = target instanceof SSEStream ? target : undefined;
  if (stream?.closed) return false;
  let state = keys.get(key);
  if (state?.all.has(target)) return true;
  const lastId = options.resume && stream ? stream.lastEventId : undefined;
  const bridge = getBridge();
  if (bridge !== undefined) {
    // The bridge replays from its shared log, then registers the stream itself.
    if (lastId !== undefined && bridge.resume(key, stream!, lastId)) return true;
    if (state === undefined) bridge.watch(key);
  }

  const id = nativeId(target);
  if (id !== undefined) {
    // The core replays and joins in one step: no broadcast falls between.
    if (native.hubJoin(key, id, lastId) === -2) return false;
  } else if (stream && lastId !== undefined) {
    const [, ...frames] = native.hubReplay(key, lastId);
    for (const frame of frames) stream.sendFrame(frame);
    if (stream.closed) return false;
  }

  if (state === undefined) {
    state = { all: new Set(), js: new Set(), jsStreams: 0 };
    keys.set(key, state);
  }
  state.all.add(target);
  if (id === undefined) {
    state.js.add(target);
    if (stream) state.jsStreams++;
  }
  if (stream) {
    if (stream.hubKeys === undefined) {
      stream.hubKeys = [key];
      streamMembers++;
    } else {
      stream.hubKeys.push(key);
    }
  } else {
    const fn = target as (msg: SSEMessage) => unknown;
    let mine = fnKeys.get(fn);
    if (mine === undefined) fnKeys.set(fn, (mine = new Set()));
    mine.add(key);
  }
  return true;
}

function forget(key: string, target: HubTarget, state: KeyState): void {
  state.all.delete(target);
  if (state.js.delete(target) && target instanceof SSEStream) state.jsStreams--;
  if (state.all.size === 0) keys.delete(key);
}

/** @internal Called by the stream as it closes: it leaves every key. */
export function leaveHub(stream: SSEStream): void {
  const mine = stream.hubKeys;
  if (mine === undefined) return;
  stream.hubKeys = undefined;
  streamMembers--;
  for (const key of mine) {
    const state = keys.get(key);
    if (state) forget(key, stream, state);
  }
  // The core removed adopted members itself when they started closing.
}

/** Removes a stream or send function from `key`; true if it was a member. */
export function unregisterConnection(key: string, target: HubTarget): boolean {
  checkKey(key, 'unregisterConnection');
  checkTarget(target, 'unregisterConnection');
  const state = keys.get(key);
  if (state === undefined || !state.all.has(target)) return false;
  const id = state.js.has(target) ? undefined : nativeId(target);
  if (id !== undefined) native.hubLeave(key, id);
  forget(key, target, state);
  if (target instanceof SSEStream) {
    const mine = target.hubKeys!;
    mine.splice(mine.indexOf(key), 1);
    if (mine.length === 0) {
      target.hubKeys = undefined;
      streamMembers--;
    }
  } else {
    const mine = fnKeys.get(target)!;
    mine.delete(key);
    if (mine.size === 0) fnKeys.delete(target);
  }
  return true;
}

export interface BroadcastOptions {
  id?: string | number;
  retry?: number;
}

/**
 * Sends one event to every member of `key`: `broadcast(key, event, data,
 * { id, retry }?)` (seed 002's order) or `broadcast(key, msg)`. Encoded
 * once; adopted members get a reference to the same frame, queued in C++.
 * When the key keeps a replay ring and no id is given, the next id of the
 * key is used ("1", "2", ...). Backpressure policies apply per member: a
 * slow member is dropped or closed, the others are not held up. Returns how
 * many members it was handed to. A bad field is a TypeError and nobody
 * gets anything.
 */
export function broadcast(key: string, msg: SSEMessage): number;
export function broadcast(key: string, event: string, data: unknown, options?: BroadcastOptions): number;
export function broadcast(key: string, eventOrMsg: string | SSEMessage, data?: unknown, options?: BroadcastOptions): number {
  checkKey(key, 'broadcast');
  let msg: SSEMessage;
  if (typeof eventOrMsg === 'string') {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError('broadcast: options must be an object like { id?, retry? }');
    }
    msg = { event: eventOrMsg, data, id: options?.id, retry: options?.retry };
  } else {
    msg = eventOrMsg;
  }
  const args: MessageArgs = messageArgs(msg);
  // Through a bridge, every process (this one too) delivers it when the
  // transport hands it back: counted here are the local members it will reach.
  if (getBridge()?.publish(key, msg, args)) return keys.get(key)?.all.size ?? 0;
  return deliverArgs(key, msg, args);
}

/** @internal Delivers one validated message to this process's members of `key` only (the id is kept as given). */
export function deliverLocal(key: string, msg: SSEMessage): number {
  return deliverArgs(key, msg, messageArgs(msg));
}

function deliverArgs(key: string, msg: SSEMessage, args: MessageArgs): number {
  const state = keys.get(key);
  const wantFrame = state !== undefined && state.jsStreams > 0;
  const n = native.hubBroadcast(key, wantFrame, args[0], args[1], args[2], args[3], args[4]);
  if (n < 0) throw frameError(-n);
  if (state === undefined || state.js.size === 0) return n;
  const frame = wantFrame ? native.lastFrame : undefined;
  native.lastFrame = undefined;
  let handed = n;
  let firstError: unknown;
  let failed = false;
  for (const target of [...state.js]) {
    if (target instanceof SSEStream) {
      if (!target.accepting) continue; // closing: leaves the key when it has closed
      target.sendFrame(frame!);
      handed++;
    } else {
      handed++;
      try {
        target(msg);
      } catch (err) {
        // One throwing send function must not keep the event from the rest.
        if (!failed) {
          failed = true;
          firstError = err;
        }
      }
    }
  }
  if (failed) throw firstError;
  return handed;
}

// A broadcast from another thread (a Worker, or the main thread seen from
// a Worker): the core has sent it to this thread's adopted members; the
// members written from JS get it here.
function deliverRemote(
  key: string,
  frame: Buffer,
  event: string | undefined,
  data: string | undefined,
  id: string | undefined,
  retry: number | undefined,
): void {
  const state = keys.get(key);
  if (state === undefined) return;
  for (const target of [...state.js]) {
    if (target instanceof SSEStream) target.sendFrame(frame);
    else target({ event, data, id, retry });
  }
}
native.setRemote(deliverRemote);

/** Members of `key`; without a key, distinct members of every key. */
export function getConnectionCount(key?: string): number {
  if (key === undefined) return streamMembers + fnKeys.size;
  checkKey(key, 'getConnectionCount');
  return keys.get(key)?.all.size ?? 0;
}

/** Keys with at least one member. */
export function getConnectionKeys(): string[] {
  return [...keys.keys()];
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`${what} must be a non-negative integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** Per-key settings: `{ replay: { maxEvents, maxAgeMs } }` keeps a replay ring. */
export function configureKey(key: string, options: KeyOptions): void {
  checkKey(key, 'configureKey');
  if (typeof options !== 'object' || options === null) throw new TypeError('configureKey: options must be an object');
  const replay = options.replay;
  if (replay === undefined) return;
  if (replay === null) {
    native.hubConfigure(key, 0, 0);
    noteReplay(key, 0, 0);
    return;
  }
  if (typeof replay !== 'object') throw new TypeError('configureKey: `replay` must be an object like { maxEvents, maxAgeMs }');
  const maxAgeMs = replay.maxAgeMs === undefined ? 0 : nonNegativeInt(replay.maxAgeMs, 'configureKey: `replay.maxAgeMs`');
  const maxEvents = replay.maxEvents === undefined ? 1000 : nonNegativeInt(replay.maxEvents, 'configureKey: `replay.maxEvents`');
  native.hubConfigure(key, maxEvents, maxAgeMs);
  noteReplay(key, maxEvents, maxAgeMs);
}

export interface HubMetrics {
  /** Open streams of this thread (every sink). */
  connections: number;
  /** Members per key. */
  keys: Record<string, number>;
  eventsSent: number;
  bytesSent: number;
  broadcasts: number;
  drops: number;
  slowConsumerCloses: number;
  heartbeats: number;
  /** Events replayed to resuming streams. */
  replays: number;
  /** Resumes whose Last-Event-ID was no longer in the ring (sent `sse-gap`). */
  replayGaps: number;
  /** Requests refused by a connection limit (503). */
  refused: number;
}

let refusedCount = 0;
/** @internal */
export function countRefused(): void {
  refusedCount++;
}

/** Counters of this thread's streams and hub. */
export function getMetrics(): HubMetrics {
  const s = native.stats();
  const perKey: Record<string, number> = {};
  for (const [k, v] of keys) perKey[k] = v.all.size;
  return {
    connections: openStreamCount(),
    keys: perKey,
    eventsSent: s.eventsSent + jsSinkStats.eventsSent,
    bytesSent: s.bytesWritten + jsSinkStats.bytesSent,
    broadcasts: s.broadcasts,
    drops: s.drops + jsSinkStats.drops,
    slowConsumerCloses: s.slowConsumerCloses + jsSinkStats.slowConsumerCloses,
    heartbeats: s.heartbeatsSent + jsSinkStats.heartbeats,
    replays: s.replayedEvents,
    replayGaps: s.replayGaps,
    refused: refusedCount,
  };
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** getMetrics() in the Prometheus text exposition format (version 0.0.4). */
export function metricsText(): string {
  const m = getMetrics();
  const out: string[] = [];
  const one = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  };
  one('sse_connections', 'gauge', 'Open SSE streams.', m.connections);
  out.push('# HELP sse_key_connections Members per hub key.', '# TYPE sse_key_connections gauge');
  for (const [k, v] of Object.entries(m.keys)) out.push(`sse_key_connections{key="${escapeLabel(k)}"} ${v}`);
  one('sse_events_sent_total', 'counter', 'Event frames queued to clients.', m.eventsSent);
  one('sse_bytes_sent_total', 'counter', 'Bytes written to clients.', m.bytesSent);
  one('sse_broadcasts_total', 'counter', 'Hub broadcasts.', m.broadcasts);
  one('sse_drops_total', 'counter', "Events dropped for slow consumers ('drop' policy).", m.drops);
  one('sse_slow_consumer_closes_total', 'counter', "Streams closed as slow consumers ('close' policy).", m.slowConsumerCloses);
  one('sse_heartbeats_total', 'counter', 'Keepalive comments sent.', m.heartbeats);
  one('sse_replayed_events_total', 'counter', 'Events replayed to resuming streams.', m.replays);
  one('sse_replay_gaps_total', 'counter', 'Resumes past the replay ring (sse-gap sent).', m.replayGaps);
  one('sse_refused_total', 'counter', 'Requests refused by a connection limit.', m.refused);
  return out.join('\n') + '\n';
}
