// One member's write queue and its slow-consumer rules, the twin of
// native/core/io/write_queue.* and the queue logic of connection.cc, kept
// in this one module so the policy is easy to adjust:
//  - a send never fails for being large; above highWaterMark it returns
//    backpressure (the caller waits for 'drain');
//  - each frame is charged against maxBuffered: its size for the member's
//    own send, size / members for a broadcast batch shared by the key's
//    members. maxBuffered is judged after each attempt to write: more than
//    it charged to frames waiting behind the buffer with the sink (not
//    handed yet), with the sink having taken nothing since the previous
//    judgement, and the policy applies;
//  - a queue above highWaterMark whose sink took nothing for
//    slowConsumerMs is slow: the policy applies;
//  - policy 'close' closes the member (SSE_SLOW_CONSUMER), 'drop' refuses
//    what it is sent until the sink takes bytes again.
// Bytes handed to the sink stay counted in `bytes` until it acknowledges them.

export class WriteQueue {
  /** Frames queued and not yet handed to the sink. */
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private pendingCharge = 0;
  /** Bytes of the one buffer with the sink (0: none). */
  private handedBytes = 0;
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

  /** Queues `frame` (shared, never copied), charged `charge` bytes against maxBuffered. */
  push(frame: Uint8Array, charge: number, hwm: number, now: number): void {
    const wasAbove = this.bytes > hwm;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    this.pendingCharge += charge;
    if (!wasAbove && this.bytes > hwm) this.aboveMs = now;
  }

  /** Everything pending as one buffer for the sink (the frame itself when it is alone); the queue waits for ack(). */
  handOff(): Uint8Array {
    const out = this.pending.length === 1 ? this.pending[0] : concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.handedBytes = this.pendingBytes;
    this.pendingBytes = this.pendingCharge = 0;
    this.handed = true;
    return out;
  }

  /** The sink took the handed buffer; returns its size. */
  ack(now: number): number {
    const n = this.handedBytes;
    this.handedBytes = 0;
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
    const over = this.pendingCharge > maxBuffered && !this.progressed;
    this.progressed = false;
    return over;
  }

  /** From the timer: true when the queue stayed above `hwm` with the sink taking nothing for `slowMs`. */
  slowFor(hwm: number, slowMs: number, now: number): boolean {
    if (slowMs === 0 || this.bytes <= hwm) return false;
    return now - Math.max(this.takenMs, this.aboveMs) >= slowMs;
  }

  clear(): void {
    this.pending.length = 0;
    this.pendingBytes = this.pendingCharge = this.handedBytes = 0;
    this.handed = false;
  }
}

/** `parts` joined into one buffer of `total` bytes. */
export function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (typeof Buffer === 'function') return Buffer.concat(parts, total);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
