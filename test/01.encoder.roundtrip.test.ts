// encodeEvent against the npm package eventsource-parser: what we write is
// what an independent WHATWG parser reads back.
import { createParser as referenceParser, type EventSourceMessage } from 'eventsource-parser';
import { encodeEvent, encodeNDJSON } from '../lib';
import { int, pick, randomSplit, randomText, rng } from './helpers/random';

interface Sent {
  event?: string;
  id?: string;
  data: string;
}

function parseWithReference(chunks: Uint8Array[]): { events: EventSourceMessage[]; retries: number[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const p = referenceParser({
    onEvent: (e) => events.push({ event: e.event, id: e.id, data: e.data }),
    onRetry: (r) => retries.push(r),
    onComment: (c) => comments.push(c),
  });
  const dec = new TextDecoder();
  for (const c of chunks) p.feed(dec.decode(c, { stream: true }));
  p.feed(dec.decode());
  return { events, retries, comments };
}

const normalize = (s: string) => s.replace(/\r\n|\r/g, '\n');

describe('encodeEvent round trip through eventsource-parser', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seeded random events (seed %i)', (seed) => {
    const r = rng(seed);
    const expected: Sent[] = [];
    const retries: number[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = r();
      if (kind < 0.05) {
        const retry = int(r, 100000);
        retries.push(retry);
        parts.push(encodeEvent({ retry }));
        continue;
      }
      if (kind < 0.1) {
        parts.push(encodeEvent({ comment: randomText(r, true) }));
        continue;
      }
      const data = randomText(r, true);
      const msg: { data: string; event?: string; id?: string } = { data };
      if (r() < 0.5) msg.event = randomText(r, false, 3);
      if (r() < 0.5) msg.id = randomText(r, false, 3);
      parts.push(encodeEvent(msg));
      expected.push({ event: msg.event || undefined, id: msg.id, data: normalize(data) });
    }
    const bytes = new Uint8Array(Buffer.concat(parts));
    const whole = parseWithReference([bytes]);
    expect(whole.events).toEqual(expected);
    expect(whole.retries).toEqual(retries);
    const split = parseWithReference(randomSplit(r, bytes));
    expect(split.events).toEqual(expected);
  });

  test('non-string data is JSON and comes back equal', () => {
    const values = [{ content: 'Hello' }, [1, 'two', { three: 3 }], 42, true, null, { nested: { emoji: '🚀', nl: 'a\nb' } }];
    const bytes = Buffer.concat(values.map((v) => encodeEvent({ event: 'chunk', data: v })));
    const { events } = parseWithReference([bytes]);
    expect(events.map((e) => JSON.parse(e.data))).toEqual(values);
    expect(events.every((e) => e.event === 'chunk')).toBe(true);
  });

  test('a string is sent as it is, so [DONE] stays raw', () => {
    expect(encodeEvent({ data: '[DONE]' }).toString()).toBe('data: [DONE]\n\n');
  });

  test('exact frame layout', () => {
    expect(encodeEvent({ event: 'chunk', id: 7, retry: 3000, data: { a: 1 } }).toString()).toBe(
      'event: chunk\nid: 7\nretry: 3000\ndata: {"a":1}\n\n',
    );
    expect(encodeEvent({ comment: 'keepalive' }).toString()).toBe(': keepalive\n\n');
    expect(encodeEvent({ data: 'a\r\nb\rc\nd' }).toString()).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  test('NUL in an event name is kept (the spec cares about NUL in ids only) and parses back', () => {
    const buf = encodeEvent({ event: 'a\0b', data: 'x' });
    expect(buf.toString('latin1')).toBe('event: a\0b\ndata: x\n\n');
    const got: EventSourceMessage[] = [];
    referenceParser({ onEvent: (e) => got.push(e) }).feed(buf.toString('utf8'));
    expect(got).toEqual([{ event: 'a\0b', id: undefined, data: 'x' }]);
  });

  test('lone surrogates leave as U+FFFD, never as invalid UTF-8', () => {
    const buf = encodeEvent({ data: 'x\ud800y' });
    expect(buf.toString()).toBe('data: x\ufffdy\n\n');
    expect(new TextDecoder('utf-8', { fatal: true }).decode(buf)).toBe('data: x\ufffdy\n\n');
  });
});

describe('encodeEvent rejects bad input with a TypeError naming the field', () => {
  test.each([
    [{ id: 'a\nb' }, /`id`/],
    [{ id: 'a\rb' }, /`id`/],
    [{ id: 'a\0b' }, /`id`/],
    [{ event: 'x\ny' }, /`event`/],
    [{ event: 'x\r' }, /`event`/],
    [{ retry: -1 }, /`retry`/],
    [{ retry: 1.5 }, /`retry`/],
    [{ retry: NaN }, /`retry`/],
    [{ retry: '100' }, /`retry`/],
    [{ data: 10n }, /`data`/],
    [{ data: (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })() }, /`data`/],
    [{ data: () => 1 }, /`data`/],
    [{ event: 5 }, /`event`/],
    [{ id: {} }, /`id`/],
    [{ comment: 1 }, /`comment`/],
  ])('%p', (msg, re) => {
    expect(() => encodeEvent({ data: 'x', ...(msg as object) })).toThrow(TypeError);
    expect(() => encodeEvent({ data: 'x', ...(msg as object) })).toThrow(re);
  });

  test('CR or LF in `event` names the fields that break a line, not NUL', () => {
    expect(() => encodeEvent({ event: 'a\nb', data: 'x' })).toThrow('`event` must not contain CR or LF');
    expect(() => encodeEvent({ id: 'a\0b', data: 'x' })).toThrow('`id` must not contain CR, LF or NUL');
  });

  test('a message that is not an object', () => {
    expect(() => encodeEvent(null as never)).toThrow(TypeError);
    expect(() => encodeEvent('data' as never)).toThrow(/message object/);
  });
});

describe('encodeNDJSON', () => {
  test('one JSON value per line', () => {
    expect(encodeNDJSON({ a: 'x\ny' }).toString()).toBe('{"a":"x\\ny"}\n');
    expect(encodeNDJSON('str').toString()).toBe('"str"\n');
    expect(encodeNDJSON([1, 2]).toString()).toBe('[1,2]\n');
  });
  test('rejects what JSON cannot hold', () => {
    expect(() => encodeNDJSON(undefined)).toThrow(TypeError);
    expect(() => encodeNDJSON(1n)).toThrow(/`value`/);
  });
});

test('pick/int helpers are deterministic', () => {
  const a = rng(9);
  const b = rng(9);
  expect([pick(a, [1, 2, 3]), int(a, 10)]).toEqual([pick(b, [1, 2, 3]), int(b, 10)]);
});
