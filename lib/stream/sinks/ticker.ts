// One interval timer for every sink written from JS (fallback and web):
// heartbeats and timeouts, as the core has one timer per loop for adopted
// sockets. Its period follows the shortest interval a sink asks for.
import { encodeEvent } from '../../native/encoder';

/** The heartbeat comment, encoded once by the core. */
export const KEEPALIVE = encodeEvent({ comment: 'keepalive' });

export interface Ticking {
  /** The period this sink needs, in ms. */
  tickWanted(): number;
  tick(now: number): void;
}

const ticking = new Set<Ticking>();
let timer: NodeJS.Timeout | undefined;
let tickMs = 1000;

function schedule(): void {
  let want = 1000;
  for (const s of ticking) want = Math.min(want, s.tickWanted());
  want = Math.max(10, want);
  if (timer !== undefined && want === tickMs) return;
  if (timer !== undefined) clearInterval(timer);
  tickMs = want;
  timer = setInterval(() => {
    const now = Date.now();
    for (const s of ticking) s.tick(now);
  }, tickMs);
  timer.unref();
}

export function startTicking(sink: Ticking): void {
  ticking.add(sink);
  schedule();
}

export function stopTicking(sink: Ticking): void {
  ticking.delete(sink);
  if (ticking.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}
