// createParser against eventsource-parser on seeded random streams, fed as
// bytes split anywhere (ours) and as strings (theirs): same callbacks.
import { createParser as referenceParser } from 'eventsource-parser';
import { createParser, ParseError } from '../lib';
import { int, pick, randomSplit, randomText, rng } from './helpers/random';

type Call = [string, ...unknown[]];

function record(calls: Call[]) {
  return {
    onEvent: (e: { event?: string; id?: string; data: string }) => calls.push(['event', e.event, e.id, e.data]),
    onRetry: (r: number) => calls.push(['retry', r]),
    onComment: (c: string) => calls.push(['comment', c]),
    onError: (e: { type: string }) => calls.push(['error', e.type]),
  };
}

const FIELDS = ['data', 'data', 'data', 'event', 'id', 'retry', '', 'foo', 'dat', 'data '];
const EOLS = ['\n', '\r\n', '\r'];

function randomStream(r: () => number): string {
  let s = '';
  const n = 1 + int(r, 40);
  for (let i = 0; i < n; i++) {
    const eol = pick(r, EOLS);
    const x = r();
    if (x < 0.2) {
      s += eol;
    } else if (x < 0.3) {
      s += ':' + randomText(r, false, 3) + eol;
    } else if (x < 0.35) {
      s += 'retry:' + pick(r, ['1000', ' 25', 'x1', '', '007']) + eol;
    } else {
      const field = pick(r, FIELDS);
      const sep = pick(r, [':', ': ', ':  ', '']);
      s += field + sep + (sep ? randomText(r, false, 4) : '') + eol;
    }
  }
  return s;
}

describe('createParser agrees with eventsource-parser', () => {
  test.each(Array.from({ length: 20 }, (_, i) => i + 1))('random stream, seed %i', (seed) => {
    const r = rng(seed * 7919);
    for (let k = 0; k < 30; k++) {
      const text = randomStream(r);
      const theirs: Call[] = [];
      const ref = referenceParser(record(theirs));
      ref.feed(text);

      const whole: Call[] = [];
      createParser(record(whole)).feed(text);
      expect(whole).toEqual(theirs);

      // Fed in pieces, a line that cannot become a field is dropped unseen
      // when a feed ends inside it (eventsource-parser 4.1's rule): so the
      // reference gets the same pieces, as text decoded the way ours is.
      const split: Call[] = [];
      const theirsSplit: Call[] = [];
      const p = createParser(record(split));
      const ref2 = referenceParser(record(theirsSplit));
      const decoder = new TextDecoder();
      for (const chunk of randomSplit(r, new TextEncoder().encode(text))) {
        p.feed(chunk);
        ref2.feed(decoder.decode(chunk, { stream: true }));
      }
      expect(split).toEqual(theirsSplit);
    }
  });
});

describe('createParser behaviour', () => {
  test('onId fires for a block with an id and no data, before onEvent otherwise', () => {
    const calls: Call[] = [];
    const p = createParser({ ...record(calls), onId: (id) => calls.push(['id', id]) });
    p.feed('id: 1\n\nid: 2\ndata: x\n\nid\n\n');
    expect(calls).toEqual([['id', '1'], ['id', '2'], ['event', undefined, '2', 'x'], ['id', '']]);
  });

  test('a multi-byte character split between byte chunks decodes right', () => {
    const bytes = new TextEncoder().encode('data: 🚀é中\n\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got: string[] = [];
      const p = createParser({ onEvent: (e) => got.push(e.data) });
      p.feed(bytes.subarray(0, cut));
      p.feed(bytes.subarray(cut));
      expect(got).toEqual(['🚀é中']);
    }
  });

  test('invalid UTF-8 becomes U+FFFD', () => {
    const got: string[] = [];
    const p = createParser({ onEvent: (e) => got.push(e.data) });
    p.feed(Uint8Array.from([...Buffer.from('data: a'), 0xff, 0xc3, ...Buffer.from('b\n\n')]));
    expect(got).toEqual(['a\ufffd\ufffdb']);
  });

  test('a BOM is stripped once, at the start only', () => {
    const got: string[] = [];
    const p = createParser({ onEvent: (e) => got.push(e.data) });
    p.feed(Uint8Array.from([0xef, 0xbb]));
    p.feed(Uint8Array.from([0xbf, ...Buffer.from('data: a\n\n'), 0xef, 0xbb, 0xbf, ...Buffer.from('data: b\n\n')]));
    expect(got).toEqual(['a']);
  });

  test('retry larger than 2^32 survives the record format', () => {
    const got: number[] = [];
    createParser({ onRetry: (r) => got.push(r) }).feed('retry: 8589934593\n\n');
    expect(got).toEqual([8589934593]);
  });

  test('errors are ParseError with type, field, value and line', () => {
    const errors: ParseError[] = [];
    createParser({ onError: (e) => errors.push(e) }).feed('foo: bar\nretry: 1s\n\n');
    expect(errors.map((e) => [e instanceof ParseError, e.type, e.field, e.value, e.line])).toEqual([
      [true, 'unknown-field', 'foo', 'bar', 'foo: bar'],
      [true, 'invalid-retry', undefined, '1s', 'retry: 1s'],
    ]);
  });

  test('the last event is not dispatched without a blank line; reset({consume}) parses the pending line', () => {
    const calls: Call[] = [];
    const p = createParser(record(calls));
    p.feed('data: a\n\ndata: b\n');
    expect(calls).toEqual([['event', undefined, undefined, 'a']]);
    p.feed('retry: 5');
    p.reset({ consume: true });
    expect(calls).toEqual([['event', undefined, undefined, 'a'], ['retry', 5]]);
    p.feed('\n\n');
    expect(calls.length).toBe(2);
  });

  test('maxBufferSize: onError, then feed throws until reset()', () => {
    const errors: string[] = [];
    const p = createParser({ maxBufferSize: 16, onError: (e) => errors.push(e.type) });
    p.feed('data: ' + 'x'.repeat(64));
    expect(errors).toEqual(['max-buffer-size-exceeded']);
    expect(() => p.feed('\n\n')).toThrow(/terminated/);
    p.reset();
    const got: string[] = [];
    const q = createParser({ maxBufferSize: 16, onEvent: (e) => got.push(e.data) });
    q.feed('data: ok\n\n');
    expect(got).toEqual(['ok']);
  });

  test('bad arguments are TypeErrors', () => {
    expect(() => createParser((() => {}) as never)).toThrow(TypeError);
    expect(() => createParser({ onEvent: 1 as never })).toThrow(/onEvent/);
    expect(() => createParser({ maxBufferSize: -1 })).toThrow(/maxBufferSize/);
    expect(() => createParser({}).feed(42 as never)).toThrow(TypeError);
  });

  test('a user callback that throws propagates out of feed()', () => {
    const p = createParser({ onEvent: () => { throw new Error('boom'); } });
    expect(() => p.feed('data: x\n\n')).toThrow('boom');
  });
});
