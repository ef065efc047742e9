// The bridge over any BridgeTransport: broadcasts go to the bus and come back
// to every process (this one too) as one deliverLocal call each, so each
// process's members get each event once, in the bus's order. Keys with replay
// append to the bus's log, whose ids become the event ids; resumes and
// reconnections read the log and merge it with what arrives live, by id.
import { getBridge, replayOf, setBridge, type HubBridge } from '../hub/bridge';
import { deliverLocal, getConnectionCount, registerConnection } from '../hub/hub';
import type { MessageArgs, SSEMessage } from '../native/encoder';
import type { SSEStream } from '../stream/stream';
import { randomBytes } from 'node:crypto';
import type { BridgeTransport, LogEntry } from './transport';

/** A stream waiting for the log before it joins its key. */
interface Resumer {
  stream: SSEStream;
  lastId: string;
  /** Live messages delivered to the key while the log was read. */
  buffer: Array<[string, SSEMessage]>;
  /** The log's answer, kept while the key itself catches up. */
  entries?: LogEntry[] | null;
}

/** What this process knows of one key it listens to. */
interface Track {
  key: string;
  subscribed: Promise<void>;
  /** Id of the newest log entry delivered here (replay keys). */
  lastLogId: string | undefined;
  /** Id of the newest message delivered here (any id), for sse-gap. */
  lastId: string | undefined;
  /** Where the log stood when we subscribed, for a catch-up before anything was delivered. */
  position: string | undefined;
  /** Messages held while the key catches up after a lost connection. */
  catching: Array<[string, SSEMessage, number]> | undefined;
  catchFrom: string | undefined;
  catchGen: number;
  resumers: Resumer[];
  /** Resumers whose log answer came during a catch-up. */
  waiting: Resumer[];
  /** Last seq seen per publisher on this key's plain (not logged) messages. */
  seen: Map<string, number>;
}

const kLagBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** Counters of one bridge; see RedisMetrics in index.ts for their meaning. */
export class BridgeCounters {
  messagesOut = 0;
  messagesIn = 0;
  publishErrors = 0;
  outboxDepth = 0;
  outboxOverflows = 0;
  localOnly = 0;
  resumesFromLog = 0;
  resumesFromRing = 0;
  resumeGaps = 0;
  catchUps = 0;
  catchUpEvents = 0;
  gapsSent = 0;
  lagCount = 0;
  lagSumMs = 0;
  lagBuckets = new Array<number>(kLagBuckets.length).fill(0);

  observeLag(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    this.lagCount++;
    this.lagSumMs += v;
    for (let i = 0; i < kLagBuckets.length; i++) if (v <= kLagBuckets[i]) this.lagBuckets[i]++;
  }
}
export { kLagBuckets };

/** Compares two Stream ids (`<ms>-<seq>`, or `<ms>`); NaN when either is not one. */
export function compareIds(a: string, b: string): number {
  const pa = parseId(a);
  const pb = parseId(b);
  if (pa === undefined || pb === undefined) return NaN;
  return pa[0] !== pb[0] ? (pa[0] < pb[0] ? -1 : 1) : pa[1] === pb[1] ? 0 : pa[1] < pb[1] ? -1 : 1;
}

function parseId(id: string): [bigint, bigint] | undefined {
  const m = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(id);
  return m === null ? undefined : [BigInt(m[1]), BigInt(m[2] ?? '0')];
}

/**
 * The wire payload: [event, data, id, retry, comment, publishedAtMs,
 * publisher, seq]; ids of log entries travel beside it. (publisher, seq)
 * lets a receiver drop a copy of a message resent after a reconnection.
 */
function encodePayload(args: MessageArgs, withId: boolean, publisher: string, seq: number): string {
  const [event, data, id, retry, comment] = args;
  return JSON.stringify([event ?? null, data ?? null, withId ? (id ?? null) : null, retry ?? null, comment ?? null, Date.now(), publisher, seq]);
}

type Wire = [string | null, string | null, string | null, number | null, string | null, number, string, number];

function decodePayload(payload: string, logId: string): [SSEMessage, number, Wire] {
  const a = JSON.parse(payload) as Wire;
  const msg: SSEMessage = {
    event: a[0] ?? undefined,
    data: a[1] ?? undefined,
    id: logId !== '' ? logId : (a[2] ?? undefined),
    retry: a[3] ?? undefined,
    comment: a[4] ?? undefined,
  };
  return [msg, a[5], a];
}

const gapMessage = (lastEventId: string): SSEMessage => ({ event: 'sse-gap', data: JSON.stringify({ lastEventId }) });

/** Options of a LogBridge (connectRedis fills them). */
export interface LogBridgeOptions {
  maxOutbox: number;
  /** Unsubscribes keys that have had no local member for this long. */
  idleUnsubscribeMs: number;
}

/** A HubBridge over a BridgeTransport. Installed with install(), removed by close(). */
export class LogBridge implements HubBridge {
  readonly counters = new BridgeCounters();
  private readonly tracks = new Map<string, Track>();
  private sweep: NodeJS.Timeout | undefined;
  private closed = false;
  private drainWaiters: Array<() => void> = [];
  /** This bridge's name as a publisher, and the number of its last publish. */
  private readonly publisherId = randomBytes(8).toString('hex');
  private seq = 0;
  private settledSeq = 0;
  private flushWaiters: Array<[number, () => void]> = [];

  constructor(
    readonly transport: BridgeTransport & { readonly connectedOnce: boolean },
    private readonly opts: LogBridgeOptions,
  ) {}

  /** Makes this the process's bridge; throws if another one is installed. */
  install(): void {
    if (getBridge() !== undefined) {
      throw new Error('sse-native/redis: a bridge is already connected in this process; close() it before connecting another');
    }
    setBridge(this);
    this.sweep = setInterval(() => this.sweepIdle(), this.opts.idleUnsubscribeMs);
    this.sweep.unref();
  }

  // --- HubBridge -----------------------------------------------------------

  publish(key: string, msg: SSEMessage, args: MessageArgs): boolean {
    if (this.closed) return false;
    if (!this.transport.connectedOnce) {
      this.counters.localOnly++;
      return false;
    }
    if (this.counters.outboxDepth >= this.opts.maxOutbox) {
      // Overflow rule: the newest broadcast is delivered in this process
      // only; what is queued keeps its order and is not dropped.
      this.counters.outboxOverflows++;
      return false;
    }
    const settings = replayOf(key);
    const seq = ++this.seq;
    const payload = encodePayload(args, settings === undefined, this.publisherId, seq);
    this.counters.outboxDepth++;
    const sent =
      settings !== undefined
        ? this.transport.append(key, payload, settings, this.publisherId, seq)
        : this.transport.publish(key, payload);
    sent.then(
      () => {
        this.counters.messagesOut++;
        this.settled();
      },
      () => {
        // The bus refused it: nobody else will see it; our members still do.
        this.counters.publishErrors++;
        this.settled();
        if (!this.closed) deliverLocal(key, { ...msg, id: settings !== undefined ? undefined : msg.id });
      },
    );
    return true;
  }

  resume(key: string, stream: SSEStream, lastEventId: string): boolean {
    if (this.closed || replayOf(key) === undefined) return false;
    const track = this.track(key);
    if (track.catching === undefined && track.lastLogId === lastEventId) {
      // The client is at the head of what this process delivered: the hub's
      // ring holds that id as its newest, nothing is missing.
      this.counters.resumesFromRing++;
      return false;
    }
    this.counters.resumesFromLog++;
    const r: Resumer = { stream, lastId: lastEventId, buffer: [] };
    track.resumers.push(r);
    // Subscribed first: whatever the log read misses arrives live, in r.buffer.
    track.subscribed
      .then(() => this.transport.range(key, lastEventId))
      .then(async (entries) => {
        // The live copies of these entries may still be on their way.
        await this.transport.sync();
        return entries;
      })
      .then(
        (entries) => this.finishResume(track, r, entries),
        () => this.finishResume(track, r, null),
      );
    return true;
  }

  watch(key: string): void {
    if (!this.closed) this.track(key);
  }

  // --- transport callbacks -------------------------------------------------

  /** @internal */
  onMessage(key: string, text: string): void {
    const track = this.tracks.get(key);
    if (track === undefined) return;
    const nl = text.indexOf('\n');
    const logId = text.slice(0, nl);
    let msg: SSEMessage;
    let at: number;
    let wire: Wire;
    try {
      [msg, at, wire] = decodePayload(text.slice(nl + 1), logId);
    } catch {
      return; // not ours (someone else published on the channel)
    }
    if (logId === '') {
      // A plain publish resent after a reconnection (the log's appends are
      // deduplicated by the script instead).
      const last = track.seen.get(wire[6]);
      if (last !== undefined && wire[7] <= last) return;
      track.seen.set(wire[6], wire[7]);
    }
    if (track.catching !== undefined) track.catching.push([logId, msg, at]);
    else this.deliver(track, logId, msg, at);
  }

  /** @internal The subscriber connection dropped: hold every key's messages until up(). */
  onDown(): void {
    for (const t of this.tracks.values()) {
      if (t.catching === undefined) {
        t.catching = [];
        t.catchFrom = t.lastLogId ?? t.position;
      }
      t.catchGen++;
    }
  }

  /** @internal Subscriptions are back: replay keys read what they missed from the log; the others get sse-gap. */
  onUp(): void {
    for (const t of this.tracks.values()) {
      if (t.catching === undefined) continue;
      const gen = t.catchGen;
      this.counters.catchUps++;
      if (replayOf(t.key) === undefined || t.catchFrom === undefined) {
        this.endCatchUp(t, null);
        continue;
      }
      this.transport
        .range(t.key, t.catchFrom)
        .then(async (entries) => {
          await this.transport.sync();
          return entries;
        })
        .then(
        (entries) => gen === t.catchGen && this.endCatchUp(t, entries),
        () => gen === t.catchGen && this.endCatchUp(t, null),
      );
    }
  }

  // --- internals -----------------------------------------------------------

  private track(key: string): Track {
    let t = this.tracks.get(key);
    if (t !== undefined) return t;
    const track: Track = {
      key,
      subscribed: Promise.resolve(),
      lastLogId: undefined,
      lastId: undefined,
      position: undefined,
      catching: undefined,
      catchFrom: undefined,
      catchGen: 0,
      resumers: [],
      waiting: [],
      seen: new Map(),
    };
    track.subscribed = this.transport.subscribe(key).then(async () => {
      if (replayOf(key) === undefined) return;
      const last = await this.transport.last(key).catch(() => undefined);
      track.position = last ?? '0-0';
    });
    track.subscribed.catch(() => {});
    this.tracks.set(key, track);
    return track;
  }

  private deliver(track: Track, logId: string, msg: SSEMessage, publishedAt: number): void {
    this.counters.observeLag(Date.now() - publishedAt);
    for (const r of track.resumers) r.buffer.push([logId, msg]);
    if (logId !== '') track.lastLogId = logId;
    if (msg.id !== undefined) track.lastId = String(msg.id);
    this.counters.messagesIn++;
    deliverLocal(track.key, msg);
  }

  private endCatchUp(t: Track, entries: LogEntry[] | null): void {
    const held = t.catching ?? [];
    const from = t.catchFrom;
    t.catching = undefined;
    t.catchFrom = undefined;
    let max: string | undefined;
    if (entries !== null && from !== undefined && (from === '0-0' || (entries.length > 0 && compareIds(entries[0].id, from) === 0))) {
      max = from;
      for (const e of entries) {
        if (compareIds(e.id, max) <= 0) continue;
        this.counters.catchUpEvents++;
        const [msg, at] = decodePayload(e.payload, e.id);
        this.deliver(t, e.id, msg, at);
        max = e.id;
      }
    } else {
      // Pub/sub keys cannot tell what they missed; nor can a log trimmed past us.
      this.counters.gapsSent++;
      // On a replay key the gap carries the last id delivered, so the hub's
      // ring does not number it and the clients' Last-Event-ID stays a Stream id.
      const gap = gapMessage(t.lastId ?? '');
      if (replayOf(t.key) !== undefined && t.lastLogId !== undefined) gap.id = t.lastLogId;
      deliverLocal(t.key, gap);
    }
    for (const [id, msg, at] of held) {
      if (max !== undefined && id !== '' && compareIds(id, max) <= 0) continue;
      this.deliver(t, id, msg, at);
    }
    const waiting = t.waiting;
    t.waiting = [];
    for (const r of waiting) this.finishResume(t, r, r.entries ?? null);
  }

  private finishResume(track: Track, r: Resumer, entries: LogEntry[] | null): void {
    if (track.catching !== undefined) {
      // The key's own catch-up will deliver (and so buffer for r) what the
      // connection lost; r finishes after it, merging by id.
      r.entries = entries;
      track.waiting.push(r);
      return;
    }
    const i = track.resumers.indexOf(r);
    if (i >= 0) track.resumers.splice(i, 1);
    const stream = r.stream;
    if (!stream.accepting) return;
    const found = entries !== null && entries.length > 0 && compareIds(entries[0].id, r.lastId) === 0;
    let max: string | undefined;
    if (found) {
      max = r.lastId;
      for (const e of entries!) {
        if (compareIds(e.id, max) <= 0) continue;
        stream.send(decodePayload(e.payload, e.id)[0]);
        max = e.id;
      }
    } else {
      this.counters.resumeGaps++;
      stream.send(gapMessage(r.lastId));
    }
    for (const [id, msg] of r.buffer) {
      if (max !== undefined && id !== '' && compareIds(id, max) <= 0) continue;
      stream.send(msg);
    }
    if (stream.accepting) registerConnection(track.key, stream);
  }

  private sweepIdle(): void {
    for (const t of [...this.tracks.values()]) {
      if (getConnectionCount(t.key) > 0 || t.resumers.length > 0 || t.catching !== undefined) continue;
      this.tracks.delete(t.key);
      this.transport.unsubscribe(t.key).catch(() => {});
    }
  }

  /** Resolves once the key's subscription is confirmed (a broadcast made after it reaches this process's members). */
  whenSubscribed(key: string): Promise<void> {
    return this.track(key).subscribed;
  }

  /** Resolves once every broadcast this bridge took so far was answered by the bus. */
  flushed(): Promise<void> {
    const target = this.seq;
    if (this.settledSeq >= target) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push([target, resolve]));
  }

  private settled(): void {
    // The bus answers one connection's commands in order: the n-th answer
    // settles the n-th publish.
    this.settledSeq++;
    if (this.flushWaiters.length > 0) {
      const ready = this.flushWaiters.filter(([t]) => t <= this.settledSeq);
      this.flushWaiters = this.flushWaiters.filter(([t]) => t > this.settledSeq);
      for (const [, f] of ready) f();
    }
    this.counters.outboxDepth--;
    if (this.counters.outboxDepth === 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
  }

  /** Waits (up to timeoutMs) for queued publishes, then uninstalls and closes the transport. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    if (this.counters.outboxDepth > 0 && this.transport.state === 'ready') {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.drainWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.closed = true;
    if (this.sweep !== undefined) clearInterval(this.sweep);
    if (getBridge() === this) setBridge(undefined);
    await this.transport.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
