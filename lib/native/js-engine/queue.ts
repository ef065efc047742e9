// One member's write queue and its slow-consumer rules, the twin of
// native/core/io/write_queue.* and the queue logic of connection.cc, kept
// in this one module so the policy is easy to adjust:
//  - a send never fails for being large; above highWaterMark it returns
//    backpressure (the caller waits for 'drain');
//  - maxBuffered counts only the bytes the member owns alone (its own
//    send()s); broadcast frames shared with other members do not count. It
//    is judged after each attempt to write: over maxBuffered with the sink
//    having taken nothing since the last judgement, the policy applies;
//  - a queue above highWaterMark whose sink took nothing for
//    slowConsumerMs is slow: the policy applies;
//  - policy 'close' closes the member (SSE_SLOW_CONSUMER), 'drop' discards
//    what is queued and not yet handed to the sink.
// Bytes handed to the sink stay counted until it acknowledges them.

export class WriteQueue {
  /** Frames queued and not yet handed to the sink. */
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private pendingOwn = 0;
  /** Bytes of the one buffer with the sink (0: none). */
  private handedBytes = 0;
  private handedOwn = 0;
  /** True while a buffer is with the sink, until ack(). */
  handed = false;
  /** The sink took bytes (a hand-off or an acknowledgement) since the last judgement. */
  private progressed = false;
  /** When the sink last took bytes, and when the queue last rose above the high-water mark. */
  private takenMs: number;
  private aboveMs = 0;

  constructor(now: number) {
    this.takenMs = now;
  }

  /** Bytes queued and not yet acknowledged by the sink. */
  get bytes(): number {
    return this.pendingBytes + this.handedBytes;
  }

  /** Nothing waits to be handed to the sink. */
  get empty(): boolean {
    return this.pending.length === 0;
  }

  /** Queues `frame` (shared, never copied); `own`: the member's own send, counted against maxBuffered. */
  push(frame: Uint8Array, own: boolean, hwm: number, now: number): void {
    const wasAbove = this.bytes > hwm;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (own) this.pendingOwn += frame.length;
    if (!wasAbove && this.bytes > hwm) this.aboveMs = now;
  }

  /** Everything pending as one buffer for the sink (the frame itself when it is alone); the queue waits for ack(). */
  handOff(): Uint8Array {
    const out = this.pending.length === 1 ? this.pending[0] : concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.handedBytes = this.pendingBytes;
    this.handedOwn = this.pendingOwn;
    this.pendingBytes = this.pendingOwn = 0;
    this.handed = true;
    this.progressed = true;
    return out;
  }

  /** The sink took the handed buffer; returns its size. */
  ack(now: number): number {
    const n = this.handedBytes;
    this.handedBytes = this.handedOwn = 0;
    this.handed = false;
    this.progressed = true;
    this.takenMs = now;
    return n;
  }

  /**
   * After an attempt to write: true when the member's own bytes exceed
   * `maxBuffered` and the sink took nothing since the previous judgement.
   */
  judge(maxBuffered: number): boolean {
    const over = this.pendingOwn + this.handedOwn > maxBuffered && !this.progressed;
    this.progressed = false;
    return over;
  }

  /** From the timer: true when the queue stayed above `hwm` with the sink taking nothing for `slowMs`. */
  slowFor(hwm: number, slowMs: number, now: number): boolean {
    if (slowMs === 0 || this.bytes <= hwm) return false;
    return now - Math.max(this.takenMs, this.aboveMs) >= slowMs;
  }

  /** Policy 'drop': discards what is not yet with the sink; returns the frames dropped. */
  dropPending(now: number): number {
    const n = this.pending.length;
    this.pending.length = 0;
    this.pendingBytes = this.pendingOwn = 0;
    // Judged afresh from now: a drop is not repeated every tick.
    this.aboveMs = now;
    this.progressed = false;
    return n;
  }

  clear(): void {
    this.pending.length = 0;
    this.pendingBytes = this.pendingOwn = this.handedBytes = this.handedOwn = 0;
    this.handed = false;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (typeof Buffer === 'function') return Buffer.concat(parts, total);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
