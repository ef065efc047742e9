// The last broadcasts of one key, for Last-Event-ID resume: the twin of
// native/core/replay_ring.cc. Frames are shared with the members' queues.

interface Entry {
  id: string;
  frame: Uint8Array;
  atMs: number;
}

export class ReplayRing {
  private maxEvents = 0;
  private maxAgeMs = 0;
  private entries: Entry[] = [];
  private newestId: string | undefined;

  /** On when it keeps at least one event. */
  get enabled(): boolean {
    return this.maxEvents !== 0;
  }

  /** Keeps the last `maxEvents` (0 turns the ring off and empties it), none older than `maxAgeMs` (0: no age limit). */
  configure(maxEvents: number, maxAgeMs: number): void {
    this.maxEvents = maxEvents;
    this.maxAgeMs = maxAgeMs;
    if (maxEvents === 0) {
      this.entries = [];
      return;
    }
    if (this.entries.length > maxEvents) this.entries.splice(0, this.entries.length - maxEvents);
  }

  push(id: string, frame: Uint8Array, nowMs: number): void {
    if (this.maxEvents === 0) return;
    this.newestId = id;
    if (this.entries.length === this.maxEvents) this.entries.shift();
    this.entries.push({ id, frame, atMs: nowMs });
    this.expire(nowMs);
  }

  /** The frames after `lastId` (oldest first) into `out`: true, or false when `lastId` is no longer kept (a gap). */
  since(lastId: string, nowMs: number, out: Uint8Array[]): boolean {
    this.expire(nowMs);
    if (this.newestId !== undefined && lastId === this.newestId) return true;
    // Newest first: an id the sender reused means its latest use.
    for (let i = this.entries.length; i-- > 0; ) {
      if (this.entries[i].id !== lastId) continue;
      for (let j = i + 1; j < this.entries.length; j++) out.push(this.entries[j].frame);
      return true;
    }
    return false;
  }

  private expire(nowMs: number): void {
    if (this.maxAgeMs === 0) return;
    let n = 0;
    while (n < this.entries.length && nowMs - this.entries[n].atMs > this.maxAgeMs) n++;
    if (n !== 0) this.entries.splice(0, n);
  }
}
