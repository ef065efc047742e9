// The TypeScript parser (browser build) against the native one on seeded
// random streams: random bytes (valid and invalid UTF-8, every line break,
// BOMs), split at random points, fed as bytes or strings, with reset() and
// maxBufferSize. Both must report the same callbacks in the same order.
import { createParser as nativeParser } from '../lib/native/parser';
import { createParser as tsParser } from '../lib/client/parser-ts';
import { int, pick, randomSplit, randomText, rng } from './helpers/random';

type Call = unknown[];
type Factory = typeof nativeParser;

function recorder(calls: Call[], comments = true) {
  return {
    onEvent: (e: { event?: string; id?: string; data: string }) => calls.push(['event', e.event, e.id, e.data]),
    onId: (id: string) => calls.push(['id', id]),
    onRetry: (ms: number) => calls.push(['retry', ms]),
    // Without onComment both parsers drop comments, partial ones unbuffered.
    onComment: comments ? (c: string) => calls.push(['comment', c]) : undefined,
    onError: (e: { type: string; field?: string; value?: string; line?: string; message: string }) =>
      calls.push(['error', e.type, e.field, e.value, e.line, e.message]),
  };
}

const FIELDS = ['data', 'data', 'data', 'event', 'id', 'retry', '', 'foo', 'Data', 'data ', '\ufeffdata'];
const EOLS = ['\n', '\r\n', '\r', '\n\r', '\r\r'];
// Retry values stay below 2^53 (where a double is exact) or pass 2^64 (ignored by both).
const RETRIES = ['1000', ' 25', 'x1', '', '007', '0', '9007199254740991', '1.5', '18446744073709551616', '0000000000000000000000042'];
const ODD_BYTES = [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0x00], [0xc0, 0x80]];

/** A random stream as bytes: mostly well-formed lines, with invalid UTF-8 sprinkled in. */
function randomStream(r: () => number): Uint8Array {
  const parts: number[] = [];
  const text = (s: string) => parts.push(...Buffer.from(s, 'utf8'));
  if (r() < 0.1) text('\ufeff');
  const n = 1 + int(r, 30);
  for (let i = 0; i < n; i++) {
    const eol = pick(r, EOLS);
    const x = r();
    if (x < 0.2) text(eol);
    else if (x < 0.3) text(':' + randomText(r, false, 3) + eol);
    else if (x < 0.35) text('retry:' + pick(r, RETRIES) + eol);
    else {
      const sep = pick(r, [':', ': ', ':  ', '']);
      text(pick(r, FIELDS) + sep);
      if (sep) text(randomText(r, r() < 0.1, 4));
      if (r() < 0.15) parts.push(...pick(r, ODD_BYTES));
      text(eol);
    }
  }
  if (r() < 0.3) text('data: unfinished');
  return Uint8Array.from(parts);
}

type Step = { feed: Uint8Array | string } | { reset: boolean };

// The native parser is fed a string's UTF-8 bytes rather than the string:
// its string path truncates long non-ASCII strings (readUtf8 in
// native/addon/addon.cc, reported), and the bytes are what a string means.
function replay(factory: Factory, steps: Step[], maxBufferSize?: number, comments = true): Call[] {
  const calls: Call[] = [];
  const p = factory({ ...recorder(calls, comments), maxBufferSize });
  const asBytes = factory === nativeParser;
  for (const s of steps) {
    if ('feed' in s) {
      try {
        p.feed(asBytes && typeof s.feed === 'string' ? new TextEncoder().encode(s.feed) : s.feed);
      } catch (e) {
        calls.push(['throw', (e as Error).message]);
      }
    } else {
      p.reset({ consume: s.reset });
    }
  }
  return calls;
}

function randomSteps(r: () => number): Step[] {
  const steps: Step[] = [];
  const streams = 1 + int(r, 3);
  for (let k = 0; k < streams; k++) {
    const bytes = randomStream(r);
    const asText = r() < 0.3;
    for (const chunk of randomSplit(r, bytes)) {
      // A string chunk is the loose decoding of the bytes: what a caller holding text would feed.
      steps.push({ feed: asText && r() < 0.7 ? new TextDecoder('utf-8', { ignoreBOM: true }).decode(chunk) : chunk });
    }
    if (r() < 0.7) steps.push({ reset: r() < 0.5 });
  }
  return steps;
}

describe('parser-ts agrees with the native parser', () => {
  test.each(Array.from({ length: 25 }, (_, i) => i + 1))('random streams, seed %i', (seed) => {
    const r = rng(seed * 104729);
    for (let k = 0; k < 40; k++) {
      const steps = randomSteps(r);
      const limit = r() < 0.2 ? 8 + int(r, 200) : undefined;
      const comments = r() < 0.7;
      const theirs = replay(nativeParser, steps, limit, comments);
      const ours = replay(tsParser as Factory, steps, limit, comments);
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        let i = 0;
        while (i < ours.length && JSON.stringify(ours[i]) === JSON.stringify(theirs[i])) i++;
        const cut = (v: unknown) => JSON.stringify(v)?.slice(0, 200);
        throw new Error(`seed ${seed} case ${k} limit ${limit} comments ${comments}: first difference at call ${i}: ours ${cut(ours[i])} theirs ${cut(theirs[i])}; steps ${cut(steps.map((s) => ('feed' in s ? (typeof s.feed === 'string' ? 's' + s.feed.length : 'b' + s.feed.length) : 'reset' + s.reset)))}`);
      }
    }
  });

  test('every split point of seeded random streams, with and without onComment, ended by reset({ consume })', () => {
    const r = rng(777);
    let compared = 0;
    for (let k = 0; k < 40; k++) {
      const bytes = randomStream(r).subarray(0, 300);
      const comments = r() < 0.6;
      for (let cut = 0; cut <= bytes.length; cut++) {
        const steps: Step[] = [{ feed: bytes.subarray(0, cut) }, { feed: bytes.subarray(cut) }, { reset: true }];
        const theirs = replay(nativeParser, steps, undefined, comments);
        const ours = replay(tsParser as Factory, steps, undefined, comments);
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
          throw new Error(`stream ${k} cut ${cut} comments ${comments}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  }, 60_000);

  test('every split of a mixed stream, bytes and strings alternating', () => {
    const bytes = Buffer.from('\ufeffid: 7\r\nevent: é\r\ndata: 😀 x\r\n\r\n: c\rretry: 12\n\ndata: \u00e9', 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const tail = bytes.subarray(cut).toString('utf8');
      const steps: Step[] = [{ feed: bytes.subarray(0, cut) }, { feed: tail }, { reset: true }];
      expect(replay(tsParser as Factory, steps)).toEqual(replay(nativeParser, steps));
    }
  });
});
