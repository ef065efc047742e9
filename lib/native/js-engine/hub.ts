// The hub's registry for the TypeScript engine: keys of members, broadcast
// batching, ids and replay. The twin of native/core/hub.cc: a broadcast is
// encoded once, batched per key until the loop turn ends (or until a member
// of the key sends, joins or leaves), then queued on every member as one
// shared buffer.
import { concat } from './queue';
import { ReplayRing } from './replay-ring';

/** What the hub needs of a member (native/core/hub_member.h). */
export interface HubMember {
  readonly isFunction: boolean;
  /** The keys it is in; owned by the hub. */
  readonly keys: HubKey[];
  hubOpen(): boolean;
  /** Queues a shared frame (a replayed event). */
  hubSend(frame: Uint8Array): void;
  /** Queues one sealed batch: `joined` holds `events` frames, queued on `sharers` members. */
  hubEnqueueBatch(joined: Uint8Array, events: number, sharers: number): void;
  /** True while its queue is above its high-water mark. */
  hubAboveHighWater(): boolean;
}

/** What the hub needs of its loop. */
export interface HubHost {
  now(): number;
  wake(): void;
  encode(event: string | undefined, data: string | undefined, id: string | undefined, retry: number | undefined, comment: string | undefined): Uint8Array;
}

export class HubKey {
  readonly members: HubMember[] = [];
  functions = 0;
  batch: Uint8Array[] = [];
  batchBytes = 0;
  sealingDue = false;
  readonly ring = new ReplayRing();
  lastId = 0;
  constructor(readonly name: string) {}
}

/** Hub.join()'s outcome: the values of constants.Join. */
export const JoinResult = { kJoined: 0, kJoinedAfterGap: 1, kAlready: 2, kClosed: 3 } as const;

export class Hub {
  private readonly keys = new Map<string, HubKey>();
  private due: HubKey[] = [];
  private broadcasting = false;
  private leftWhileBroadcasting: HubKey[] = [];
  private distinct = 0;
  broadcasts = 0;
  replayedEvents = 0;
  replayGaps = 0;

  constructor(private readonly host: HubHost) {}

  get distinctMembers(): number {
    return this.distinct;
  }

  get hasDue(): boolean {
    return this.due.length !== 0;
  }

  private getOrCreate(name: string): HubKey {
    let k = this.keys.get(name);
    if (k === undefined) {
      k = new HubKey(name);
      this.keys.set(name, k);
    }
    return k;
  }

  private maybeErase(k: HubKey): void {
    if (this.broadcasting || k.sealingDue || k.members.length !== 0 || k.ring.enabled) return;
    if (this.keys.get(k.name) === k) this.keys.delete(k.name);
  }

  private seal(k: HubKey): void {
    if (k.batch.length === 0) return;
    const frames = k.batch;
    const joined = frames.length === 1 ? frames[0] : concat(frames, k.batchBytes);
    k.batch = [];
    k.batchBytes = 0;
    // Backwards: a member closed while we queue to it leaves by swapping the
    // last member into its slot, one already done.
    this.broadcasting = true;
    const sharers = k.members.length - k.functions;
    for (let i = k.members.length; i-- > 0; ) {
      if (i >= k.members.length) continue;
      const m = k.members[i];
      if (!m.isFunction) m.hubEnqueueBatch(joined, frames.length, sharers);
    }
    this.broadcasting = false;
    const left = this.leftWhileBroadcasting;
    this.leftWhileBroadcasting = [];
    for (const other of new Set(left)) if (other !== k) this.maybeErase(other);
  }

  /** This turn's broadcasts join the members' queues. */
  sealAll(): void {
    const done = this.due;
    this.due = [];
    for (const k of done) {
      k.sealingDue = false;
      this.seal(k);
    }
    for (const k of done) this.maybeErase(k);
  }

  /** Broadcasts pending for `m` join its queue first (it sends, flushes or closes). */
  sealFor(m: HubMember): void {
    for (const k of m.keys.slice()) this.seal(k);
  }

  configure(key: string, maxEvents: number, maxAgeMs: number): void {
    const k = maxEvents !== 0 ? this.getOrCreate(key) : this.keys.get(key);
    if (k === undefined) return;
    k.ring.configure(maxEvents, maxAgeMs);
    this.maybeErase(k);
  }

  join(key: string, m: HubMember, lastId: string | undefined): number {
    if (!m.hubOpen()) return JoinResult.kClosed;
    const k = this.getOrCreate(key);
    if (m.keys.includes(k)) return JoinResult.kAlready;
    // What was broadcast before the join goes to the members of that time.
    this.seal(k);
    this.sealFor(m);
    let gap = false;
    if (lastId !== undefined && !m.isFunction) {
      const frames: Uint8Array[] = [];
      if (!k.ring.since(lastId, this.host.now(), frames)) {
        frames.push(this.gapFrame(lastId));
        this.replayGaps++;
        gap = true;
      } else {
        this.replayedEvents += frames.length;
      }
      for (const f of frames) {
        if (!m.hubOpen()) break;
        m.hubSend(f);
      }
      if (!m.hubOpen()) {
        this.maybeErase(k);
        return JoinResult.kClosed;
      }
    }
    k.members.push(m);
    if (m.isFunction) k.functions++;
    if (m.keys.length === 0) this.distinct++;
    m.keys.push(k);
    return gap ? JoinResult.kJoinedAfterGap : JoinResult.kJoined;
  }

  private removeMember(k: HubKey, m: HubMember): void {
    const i = k.members.indexOf(m);
    if (i < 0) return;
    k.members[i] = k.members[k.members.length - 1];
    k.members.pop();
    if (m.isFunction) k.functions--;
  }

  leave(key: string, m: HubMember): boolean {
    const k = this.keys.get(key);
    if (k === undefined || !m.keys.includes(k)) return false;
    this.seal(k); // it was a member when these were broadcast
    const at = m.keys.indexOf(k);
    if (at < 0) return true; // closed by that very batch
    m.keys.splice(at, 1);
    if (m.keys.length === 0) this.distinct--;
    this.removeMember(k, m);
    this.maybeErase(k);
    return true;
  }

  leaveAll(m: HubMember): void {
    if (m.keys.length === 0) return;
    const keys = m.keys.splice(0);
    this.distinct--;
    for (const k of keys) {
      this.removeMember(k, m);
      if (this.broadcasting) this.leftWhileBroadcasting.push(k);
      else this.maybeErase(k);
    }
  }

  /**
   * Encodes once (throws for a bad field), records it in the key's ring and
   * batches it for the key's members. Returns the members reached and the
   * function members among them (to be called by the embedder).
   */
  broadcast(
    key: string,
    event: string | undefined,
    data: string | undefined,
    id: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
    functions: HubMember[],
  ): number {
    const k = this.keys.get(key);
    let autoId = false;
    if (k !== undefined && k.ring.enabled && id === undefined) {
      id = String(k.lastId + 1);
      autoId = true;
    }
    const frame = this.host.encode(event, data, id, retry, comment);
    this.broadcasts++;
    if (k === undefined) return 0;
    if (k.ring.enabled) {
      if (autoId) k.lastId++;
      k.ring.push(id as string, frame, this.host.now());
    }
    if (k.members.length === 0) return 0;
    // One key batches at a time: a member in several keys gets every
    // broadcast in the order they were made.
    if (!k.sealingDue && this.due.length !== 0) this.sealAll();
    k.batchBytes += frame.length;
    k.batch.push(frame);
    if (!k.sealingDue) {
      k.sealingDue = true;
      this.due.push(k);
      this.host.wake();
    }
    if (k.functions !== 0) for (const m of k.members) if (m.isFunction) functions.push(m);
    return k.members.length;
  }

  memberCount(key: string): number {
    return this.keys.get(key)?.members.length ?? 0;
  }

  /** Members of `key` above their high-water mark. */
  pressured(key: string): number {
    let n = 0;
    for (const m of this.keys.get(key)?.members ?? []) if (m.hubAboveHighWater()) n++;
    return n;
  }

  /** Members per key, for every key with members. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, k] of this.keys) if (k.members.length !== 0) out[name] = k.members.length;
    return out;
  }

  private gapFrame(lastId: string): Uint8Array {
    // JSON.stringify escapes as the core does for '"', '\\' and controls,
    // except that it writes \n, \t ... where the core writes \u000a: same value.
    let json = '{"lastEventId":"';
    for (const ch of lastId) {
      const c = ch.codePointAt(0) as number;
      if (ch === '"' || ch === '\\') json += '\\' + ch;
      else if (c < 0x20) json += '\\u' + c.toString(16).padStart(4, '0');
      else json += ch;
    }
    return this.host.encode('sse-gap', json + '"}', undefined, undefined, undefined);
  }
}
