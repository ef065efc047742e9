// A small seeded PRNG (mulberry32) so random tests replay exactly.
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

export function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

const PIECES = [
  'a', 'hello', ' ', '  lead', 'data:', ': colon', 'id: x', '{"k":1}', 'é', 'ß', 'ü', '中文', '日本語',
  '🚀', '👩‍💻', '\u2028', '\u00a0', '\t', 'x'.repeat(300), '',
];
const BREAKS = ['\n', '\r', '\r\n', '\n\n', '\r\r', '\n\r'];

/** Random text of pieces, optionally with line breaks of every kind. */
export function randomText(r: () => number, withBreaks: boolean, maxPieces = 8): string {
  let s = '';
  const n = int(r, maxPieces + 1);
  for (let i = 0; i < n; i++) {
    s += withBreaks && r() < 0.25 ? pick(r, BREAKS) : pick(r, PIECES);
  }
  if (r() < 0.02) s += 'L'.repeat(70000);
  return s;
}

/** Splits bytes at random points into 1..6 pieces. */
export function randomSplit(r: () => number, bytes: Uint8Array): Uint8Array[] {
  const cuts = new Set<number>();
  const k = int(r, 6);
  for (let i = 0; i < k; i++) cuts.add(int(r, bytes.length + 1));
  const sorted = [...cuts].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}
