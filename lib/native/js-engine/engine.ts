// The member engine in TypeScript, for where the addon cannot load: the
// twin of native/core/io/connection.cc (external and function members; no
// socket adoption) and loop_context.cc (dirty list, one notification batch
// per turn, timers, limits, stats). The loop turn is a setImmediate that
// seals the hub's batches, hands each dirty member's queue to its sink and
// delivers the notifications in one call, as the core's prepare callback
// does; the records have the addon's format ([id, kind, status] * n).
import type { EngineStats, MemberOptions, NativeHistogram } from '../binding-types';
import { constants } from './constants';
import { Hub, type HubKey, type HubMember } from './hub';
import { WriteQueue } from './queue';

const N = constants.Notify;
const E = constants.Errno;
const kKeepalive = utf8(': keepalive\n\n');
const kDrainTimeoutMs = 10000; // a graceful close the client does not read
const kMaxTickMs = 1000;
const kMaxRounds = 8;
const kDefaultSlowConsumerMs = 10000;

const enum State {
  kOpen = 0,
  kDraining = 1,
  kClosed = 2,
}

function utf8(text: string): Uint8Array {
  return typeof Buffer === 'function' ? Buffer.from(text, 'utf8') : new TextEncoder().encode(text);
}

const now: () => number =
  typeof performance === 'object' && typeof performance.now === 'function' ? () => Math.floor(performance.now()) : () => Date.now();

// The loop's time, read once per burst of synchronous work (as the core
// reads uv_now once per loop turn): a send or an acknowledgement does not
// each pay for a clock read. Forgotten when the current task's microtasks run.
let cached = -1;
const forget = (): void => {
  cached = -1;
};
function clock(): number {
  if (cached < 0) {
    cached = now();
    queueMicrotask(forget);
  }
  return cached;
}

// setImmediate runs right after this turn's I/O callbacks: what a handler
// sends in one turn leaves in one hand-off.
const soon: (fn: () => void) => unknown = typeof setImmediate === 'function' ? setImmediate : (fn) => setTimeout(fn, 0);

class Histogram {
  readonly counts: number[];
  sumMs = 0;
  count = 0;
  constructor(readonly boundsMs: number[]) {
    this.counts = new Array(boundsMs.length + 1).fill(0);
  }
  observe(ms: number): void {
    let i = 0;
    while (i < this.boundsMs.length && ms > this.boundsMs[i]) i++;
    this.counts[i]++;
    this.sumMs += ms;
    this.count++;
  }
  view(): NativeHistogram {
    return { boundsMs: this.boundsMs.slice(), counts: this.counts.slice(), sumMs: this.sumMs, count: this.count };
  }
}

/** One SSE stream (external: written by a JS sink) or a send function (function: no queue). */
export class Member implements HubMember {
  readonly keys: HubKey[] = [];
  state: State = State.kOpen;
  deliverable = false;
  dirty = false;
  wantDrain = false;
  /** 'drop', judged slow: sends are refused until the sink takes bytes. */
  stalled = false;
  closeStatus = 0;
  closeStartedMs = 0;
  readonly openedMs: number;
  lastWriteMs: number;
  lastEventMs: number;
  firstEventMs = -1;
  closedMs = 0;
  events = 0;
  bytes = 0;
  readonly queue: WriteQueue;
  readonly hwm: number;
  readonly maxBuffered: number;
  readonly drop: boolean;
  readonly slowMs: number;
  readonly heartbeatMs: number;
  readonly idleMs: number;
  readonly maxDurationMs: number;

  constructor(
    readonly engine: Engine,
    readonly id: number,
    readonly isFunction: boolean,
    options: MemberOptions | undefined,
    readonly address: string | undefined,
  ) {
    const t = now();
    this.openedMs = this.lastWriteMs = this.lastEventMs = t;
    this.queue = new WriteQueue(t);
    this.hwm = options?.highWaterMark ?? 64 * 1024;
    this.maxBuffered = options?.maxBuffered ?? 1024 * 1024;
    this.drop = options?.policy === constants.Policy.DROP;
    this.slowMs = options?.slowConsumerMs ?? kDefaultSlowConsumerMs;
    this.heartbeatMs = options === undefined ? 0 : options.heartbeatMs;
    this.idleMs = options?.idleTimeoutMs ?? 0;
    this.maxDurationMs = options?.maxDurationMs ?? 0;
  }

  get open(): boolean {
    return this.state === State.kOpen;
  }

  hubOpen(): boolean {
    return this.state === State.kOpen;
  }

  hubSend(frame: Uint8Array): void {
    this.send(frame, true); // a replayed frame is charged whole, as in the core
  }

  hubEnqueueBatch(joined: Uint8Array, events: number, sharers: number): void {
    if (this.state !== State.kOpen || this.isFunction) return;
    this.enqueue(joined, events, Math.ceil(joined.length / Math.max(1, sharers)));
  }

  /** Above its high-water mark (the hub's pressure count). */
  hubAboveHighWater(): boolean {
    return this.state === State.kOpen && this.queue.bytes > this.hwm;
  }

  /** Queues a frame; constants.SendResult. */
  send(frame: Uint8Array, own: boolean): number {
    // Broadcasts of this turn not yet queued on it go first: order is kept.
    if (this.keys.length !== 0) this.engine.hub.sealFor(this);
    return this.enqueue(frame, 1, own ? frame.length : 0);
  }

  /** Queues `frame` charged `charge` bytes against maxBuffered; constants.SendResult. */
  enqueue(frame: Uint8Array, events: number, charge: number): number {
    if (this.state !== State.kOpen || this.isFunction) return constants.SendResult.CLOSED;
    const st = this.engine.st;
    if (this.stalled) {
      // 'drop', judged slow: nothing more until the sink takes bytes.
      st.drops++;
      this.wantDrain = true;
      return constants.SendResult.DROPPED;
    }
    const t = clock();
    if (frame.length !== 0) {
      this.queue.push(frame, charge, this.hwm, t);
      if (this.deliverable) this.engine.markDirty(this);
    }
    this.lastWriteMs = t;
    if (events !== 0) {
      this.lastEventMs = t;
      st.eventsSent += events;
      this.events += events;
      if (this.firstEventMs < 0) {
        this.firstEventMs = t;
        this.engine.timeToFirstEvent.observe(t - this.openedMs);
      }
    }
    if (this.queue.bytes > this.hwm) {
      this.wantDrain = true;
      return constants.SendResult.BACKPRESSURE;
    }
    return constants.SendResult.SUCCESS;
  }

  attach(): void {
    if (this.isFunction || this.deliverable) return;
    this.deliverable = true;
    if (!this.queue.empty || this.state === State.kDraining) this.engine.markDirty(this);
  }

  flush(): void {
    if (this.keys.length !== 0) this.engine.hub.sealFor(this);
    if (this.state !== State.kClosed) this.flushNow();
  }

  /** Hands what is queued to the sink (one buffer at a time), then judges maxBuffered. */
  flushNow(): void {
    if (this.state === State.kClosed || !this.deliverable || this.queue.handed) {
      if (this.state === State.kOpen && this.deliverable) this.judge();
      return;
    }
    if (this.queue.empty) {
      if (this.state === State.kDraining) this.finish(this.closeStatus);
      return;
    }
    const out = this.queue.handOff();
    this.engine.st.handoffs++;
    this.engine.notifyData(this, out);
    if (this.state === State.kOpen) this.judge();
  }

  private judge(): void {
    if (this.queue.judge(this.maxBuffered)) this.applyPolicy();
  }

  /** The slow-consumer policy: close (SSE_SLOW_CONSUMER), or refuse sends until the sink takes bytes ('drop'). */
  applyPolicy(): void {
    if (this.drop) {
      this.stalled = true;
      this.wantDrain = true;
      return;
    }
    this.engine.st.slowConsumerCloses++;
    this.closeWith(false, E.ENOBUFS);
  }

  ack(): void {
    if (!this.queue.handed) return;
    const written = this.queue.ack(clock());
    this.stalled = false;
    this.engine.st.bytesWritten += written;
    this.bytes += written;
    if (this.state === State.kDraining || (this.state === State.kOpen && !this.queue.empty)) this.engine.markDirty(this);
    if (this.state === State.kOpen) this.maybeDrain();
  }

  maybeDrain(): void {
    if (this.wantDrain && this.queue.bytes <= this.hwm) {
      this.wantDrain = false;
      this.engine.notify(this, N.DRAIN, 0);
    }
  }

  closeWith(graceful: boolean, status: number): void {
    if (this.state === State.kClosed) return;
    if (this.keys.length !== 0) {
      // Broadcast to it before a graceful close: still delivered.
      if (graceful && this.state === State.kOpen) this.engine.hub.sealFor(this);
      this.engine.hub.leaveAll(this);
      if ((this.state as State) === State.kClosed) return; // that batch closed it
    }
    if (graceful && !this.isFunction) {
      if (this.state !== State.kOpen) return;
      this.state = State.kDraining;
      this.closeStatus = status;
      this.closeStartedMs = now();
      this.wantDrain = false;
      if (this.deliverable) this.engine.markDirty(this);
      return;
    }
    if (this.closeStatus === 0) this.closeStatus = status;
    this.finish(this.closeStatus);
  }

  finish(status: number): void {
    if (this.state === State.kClosed) return;
    if (this.keys.length !== 0) this.engine.hub.leaveAll(this);
    this.closeStatus = status;
    this.closedMs = now();
    if (!this.isFunction) {
      const st = this.engine.st;
      this.engine.streamDuration.observe(this.closedMs - this.openedMs);
      if (status === 0) st.closedByServer++;
      else if (status === E.EOF) st.closedClientGone++;
      else if (status === E.ENOBUFS) st.closedSlowConsumer++;
      else if (status === E.ETIMEDOUT) st.closedTimeout++;
      else st.closedError++;
    }
    this.state = State.kClosed;
    this.queue.clear();
    this.engine.unlink(this);
    this.engine.notify(this, N.CLOSE, status);
  }

  /** Heartbeats, timeouts and the slow-consumer clock, from the engine's timer. */
  tick(t: number): void {
    if (this.isFunction) return;
    if (this.state === State.kOpen) {
      if (this.maxDurationMs !== 0 && t - this.openedMs >= this.maxDurationMs) {
        this.closeWith(true, E.ETIMEDOUT);
      } else if (this.idleMs !== 0 && t - this.lastEventMs >= this.idleMs) {
        this.closeWith(true, E.ETIMEDOUT);
      } else if (this.deliverable && !this.stalled && this.queue.slowFor(this.hwm, this.slowMs, t)) {
        this.applyPolicy();
      } else if (this.heartbeatMs !== 0 && this.queue.empty && !this.queue.handed && t - this.lastWriteMs >= this.heartbeatMs) {
        const r = this.enqueue(kKeepalive, 0, 0);
        if (r === constants.SendResult.SUCCESS || r === constants.SendResult.BACKPRESSURE) this.engine.st.heartbeatsSent++;
      }
    } else if (this.state === State.kDraining && t - this.closeStartedMs >= kDrainTimeoutMs) {
      this.closeWith(false, E.ETIMEDOUT);
    }
  }
}

type Counters = Omit<EngineStats, 'timeToFirstEvent' | 'streamDuration' | 'broadcasts' | 'replayedEvents' | 'replayGaps' | 'hubMembers'>;

/** One thread's members, hub, limits and counters. */
export class Engine {
  readonly hub: Hub;
  readonly st: Counters = {
    connectionsOpen: 0,
    connectionsAdopted: 0,
    streamsOpened: 0,
    bytesWritten: 0,
    heartbeatsSent: 0,
    drops: 0,
    slowConsumerCloses: 0,
    tryWrites: 0,
    queuedWrites: 0,
    handoffs: 0,
    notificationBatches: 0,
    eventsSent: 0,
    refused: 0,
    timerVisits: 0,
    closedByServer: 0,
    closedClientGone: 0,
    closedSlowConsumer: 0,
    closedTimeout: 0,
    closedError: 0,
  };
  readonly timeToFirstEvent = new Histogram([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000]);
  readonly streamDuration = new Histogram([1000, 5000, 10000, 30000, 60000, 300000, 900000, 1800000, 3600000, 14400000]);
  /** Members by id, until their close was reported. */
  readonly members = new Map<number, Member>();
  /** Open members (not yet finished). */
  private readonly live = new Set<Member>();
  private readonly perAddress = new Map<string, number>();
  private limits = { maxConnections: Infinity, maxPerKey: Infinity, maxPerAddress: Infinity };
  private nextId = 1;
  private dirty: Member[] = [];
  private pending: number[] = []; // [id, kind, status] * n
  private pendingBuffers: Uint8Array[] = [];
  // The arrays of the batch being delivered, reused turn after turn.
  private delivering: number[] = [];
  private deliveringBuffers: Uint8Array[] = [];
  private scheduled = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private tickMs = kMaxTickMs;
  private records = new Int32Array(192);
  private notifyFn: ((records: Int32Array, n: number, buffers: Buffer[]) => void) | undefined;

  constructor(encode: (e: string | undefined, d: string | undefined, i: string | undefined, r: number | undefined, c: string | undefined) => Uint8Array) {
    this.hub = new Hub({ now, wake: () => this.wake(), encode });
  }

  setNotify(fn: (records: Int32Array, n: number, buffers: Buffer[]) => void): void {
    this.notifyFn = fn;
  }

  open(options: MemberOptions): number {
    const m = new Member(this, this.newId(), false, options, options.address);
    this.link(m);
    this.noteTimings(m);
    return m.id;
  }

  openFunction(): number {
    const m = new Member(this, this.newId(), true, undefined, undefined);
    this.link(m);
    return m.id;
  }

  // Ids are int32 in the records: past 2^31 - 1 they start again at 1,
  // skipping ids still known (a closed member's id is free once reported).
  private newId(): number {
    do {
      if (this.nextId > 0x7fffffff) this.nextId = 1;
    } while (this.members.has(this.nextId++));
    return this.nextId - 1;
  }

  get(id: number): Member | undefined {
    return this.members.get(id);
  }

  private link(m: Member): void {
    this.members.set(m.id, m);
    this.live.add(m);
    if (!m.isFunction) {
      this.st.connectionsOpen++;
      this.st.streamsOpened++;
      if (m.address !== undefined && m.address !== '') this.perAddress.set(m.address, (this.perAddress.get(m.address) ?? 0) + 1);
      this.startTimer();
    }
  }

  unlink(m: Member): void {
    if (!this.live.delete(m)) return;
    if (!m.isFunction) {
      this.st.connectionsOpen--;
      if (m.address !== undefined && m.address !== '') {
        const n = (this.perAddress.get(m.address) ?? 1) - 1;
        if (n === 0) this.perAddress.delete(m.address);
        else this.perAddress.set(m.address, n);
      }
    }
    if (this.st.connectionsOpen === 0) this.stopTimer();
  }

  closeAll(graceful: boolean): void {
    for (const m of [...this.live]) if (!m.isFunction) m.closeWith(graceful, 0);
  }

  setLimits(l: { maxConnections?: number; maxPerKey?: number; maxPerAddress?: number }): void {
    const limit = (v: number | undefined) => (v === undefined || v < 0 ? Infinity : v);
    this.limits = { maxConnections: limit(l.maxConnections), maxPerKey: limit(l.maxPerKey), maxPerAddress: limit(l.maxPerAddress) };
  }

  /** constants.Status: 0 when a stream from `address` joining `keys` may open. */
  checkLimits(address: string | undefined, keys: readonly string[]): number {
    const S = constants.Status;
    let st = S.OK;
    if (this.st.connectionsOpen >= this.limits.maxConnections) st = S.LIMIT_CONNECTIONS;
    else if (this.limits.maxPerKey !== Infinity && keys.some((k) => this.hub.memberCount(k) >= this.limits.maxPerKey)) st = S.LIMIT_PER_KEY;
    if (st === S.OK && address && this.limits.maxPerAddress !== Infinity && (this.perAddress.get(address) ?? 0) >= this.limits.maxPerAddress) {
      st = S.LIMIT_PER_ADDRESS;
    }
    if (st !== S.OK) this.st.refused++;
    return st;
  }

  stats(): EngineStats {
    return {
      ...this.st,
      broadcasts: this.hub.broadcasts,
      replayedEvents: this.hub.replayedEvents,
      replayGaps: this.hub.replayGaps,
      hubMembers: this.hub.distinctMembers,
      timeToFirstEvent: this.timeToFirstEvent.view(),
      streamDuration: this.streamDuration.view(),
    };
  }

  memberStats(id: number): { events: number; bytes: number; timeToFirstEventMs: number; durationMs: number } | undefined {
    const m = this.members.get(id);
    if (m === undefined) return undefined;
    return {
      events: m.events,
      bytes: m.bytes,
      timeToFirstEventMs: m.firstEventMs < 0 ? -1 : m.firstEventMs - m.openedMs,
      durationMs: (m.closedMs !== 0 ? m.closedMs : now()) - m.openedMs,
    };
  }

  // --- The loop turn ---------------------------------------------------------

  markDirty(m: Member): void {
    if (m.dirty) return;
    m.dirty = true;
    this.dirty.push(m);
    this.wake();
  }

  notify(m: Member, kind: number, status: number): void {
    this.pending.push(m.id, kind, status);
    this.wake();
  }

  notifyData(m: Member, data: Uint8Array): void {
    // Consecutive members handed the same frame share its entry.
    const bufs = this.pendingBuffers;
    if (bufs.length === 0 || bufs[bufs.length - 1] !== data) bufs.push(data);
    this.pending.push(m.id, N.DATA, bufs.length - 1);
    this.wake();
  }

  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    soon(this.turn);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    for (let round = 0; round < kMaxRounds; round++) {
      this.hub.sealAll();
      this.flushDirty();
      this.deliver();
      if (this.dirty.length === 0 && this.pending.length === 0 && !this.hub.hasDue) return;
    }
    this.wake(); // still busy: continue next turn
  };

  private flushDirty(): void {
    const list = this.dirty;
    this.dirty = [];
    for (const m of list) {
      m.dirty = false;
      m.flushNow();
    }
  }

  private deliver(): void {
    if (this.pending.length === 0) return;
    const items = this.pending;
    const buffers = this.pendingBuffers;
    this.pending = this.delivering;
    this.pendingBuffers = this.deliveringBuffers;
    const n = items.length / 3;
    this.st.notificationBatches++;
    if (this.records.length < items.length) this.records = new Int32Array(Math.max(192, items.length * 2));
    const r = this.records;
    for (let i = 0; i < items.length; i++) r[i] = items[i];
    let failure: { err: unknown } | undefined;
    if (this.notifyFn !== undefined) {
      try {
        this.notifyFn(r, n, buffers as Buffer[]);
      } catch (err) {
        // Rethrown after the acknowledgements below, as the addon hands it to 'uncaughtException'.
        failure = { err };
      }
    }
    for (let i = 0; i < n; i++) {
      const id = items[i * 3];
      if (r[i * 3 + 1] === N.DATA_ACCEPTED && items[i * 3 + 1] === N.DATA) this.members.get(id)?.ack();
      else if (items[i * 3 + 1] === N.CLOSE) this.members.delete(id);
    }
    items.length = 0;
    buffers.length = 0;
    this.delivering = items;
    this.deliveringBuffers = buffers;
    if (failure !== undefined) {
      const err = failure.err;
      // Not thrown here: the rest of the turn still runs.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  // --- Timers -----------------------------------------------------------------

  private noteTimings(m: Member): void {
    let tick = this.tickMs;
    for (const ms of [m.heartbeatMs, m.idleMs, m.maxDurationMs, m.slowMs]) {
      if (ms !== 0) tick = Math.min(tick, Math.max(1, Math.floor(ms / 2)));
    }
    if (tick === this.tickMs) return;
    this.tickMs = tick;
    if (this.timer !== undefined) {
      this.stopTimer();
      this.startTimer();
    }
  }

  private startTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(this.onTimer, this.tickMs);
    // The sinks' sockets keep the process alive, not the timer.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    const t = now();
    for (const m of [...this.live]) {
      this.st.timerVisits++;
      if (m.state !== State.kClosed) m.tick(t);
    }
  };
}
