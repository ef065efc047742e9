// What broadcast() writes, on both sinks: exactly the bytes send() writes for
// the same message (both argument forms, every field), a bad field is a
// TypeError before anyone gets anything, and ids are assigned per key when
// the key keeps a replay ring and the sender gives none.
import { broadcast, configureKey, encodeEvent, getConnectionCount, type SSEMessage } from '../lib/index';
import { SINKS, connect, type SSEClient } from './helpers/server';
import { fnTarget, newKey, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

type Call = [event: string, data: unknown, options?: { id?: string; retry?: number }] | [msg: SSEMessage];

/** Each broadcast call and the message send() gets for the same event. */
const CASES: [Call, SSEMessage][] = [
  [['chunk', { content: 'Hello' }], { event: 'chunk', data: { content: 'Hello' } }],
  [['done', '[DONE]', { id: '42' }], { event: 'done', data: '[DONE]', id: '42' }],
  [['multi', 'a\nb\r\nc\rd\n', { id: 'x-1', retry: 2500 }], { event: 'multi', data: 'a\nb\r\nc\rd\n', id: 'x-1', retry: 2500 }],
  [['zero', 0], { event: 'zero', data: 0 }],
  [['null', null], { event: 'null', data: null }],
  [['list', [1, 'two', { three: 3 }]], { event: 'list', data: [1, 'two', { three: 3 }] }],
  [['unicode', 'é 中文 🚀 \u2028'], { event: 'unicode', data: 'é 中文 🚀 \u2028' }],
  [['empty', ''], { event: 'empty', data: '' }],
  [[{ data: 'no event name' }], { data: 'no event name' }],
  [[{ event: 'numeric-id', data: 'n', id: 7 }], { event: 'numeric-id', data: 'n', id: 7 }],
  [[{ data: { nested: { deep: [true, false] } }, id: '' }], { data: { nested: { deep: [true, false] } }, id: '' }],
  [[{ comment: 'just a comment' }], { comment: 'just a comment' }],
  [[{ retry: 1000 }], { retry: 1000 }],
  [['big', 'x'.repeat(100_000)], { event: 'big', data: 'x'.repeat(100_000) }],
  [['after-big', 'y'], { event: 'after-big', data: 'y' }],
];

function callBroadcast(key: string, call: Call): number {
  return call.length === 1 ? broadcast(key, call[0]) : broadcast(key, call[0], call[1], call[2]);
}

const body = (c: SSEClient) => Buffer.concat(c.reader.body);

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('broadcast() writes exactly the bytes send() writes for the same message, in order', async () => {
    const k = newKey('bytes');
    const srv = await startHub((req) => ({ ...sinkOpts, heartbeatMs: 0, key: req.url === '/hub' ? k : undefined }));
    const viaHub = await connect(srv.port, { path: '/hub' });
    const { stream: hubStream } = await srv.opened.next();
    const viaSend = await connect(srv.port, { path: '/direct' });
    const { stream: direct } = await srv.opened.next();
    expect([hubStream.sinkKind, direct.sinkKind]).toEqual([kind, kind]);
    await viaHub.waitForHead();
    await viaSend.waitForHead();
    expect(getConnectionCount(k)).toBe(1);

    for (const [call, msg] of CASES) {
      expect(callBroadcast(k, call)).toBe(1);
      direct.send(msg);
    }
    const expected = Buffer.concat(CASES.map(([, msg]) => encodeEvent(msg)));
    await viaHub.waitFor((c) => c.reader.bodyLength >= expected.length, `${expected.length} body bytes via the hub`);
    await viaSend.waitFor((c) => c.reader.bodyLength >= expected.length, `${expected.length} body bytes via send()`);
    expect(body(viaSend).equals(expected)).toBe(true);
    expect(body(viaHub).toString('utf8')).toBe(expected.toString('utf8'));
    expect(body(viaHub).equals(body(viaSend))).toBe(true);
    // And what the client parses: the events, ids and retries of the messages.
    expect(viaHub.items).toEqual(viaSend.items);
    expect(viaHub.events.map((e) => e.event ?? 'message')).toEqual([
      'chunk', 'done', 'multi', 'zero', 'null', 'list', 'unicode', 'empty', 'message', 'numeric-id', 'message', 'big', 'after-big',
    ]);
    expect(viaHub.events[2]).toEqual({ event: 'multi', data: 'a\nb\nc\nd\n', id: 'x-1' });
    expect(viaHub.items.filter((i) => i.type === 'retry')).toEqual([
      { type: 'retry', ms: 2500 },
      { type: 'retry', ms: 1000 },
    ]);
    expect(viaHub.comments).toEqual(['just a comment']);
  });

  test('a bad event, id, retry or data throws a TypeError naming the field, and nothing reaches any member', async () => {
    const k = newKey('bad');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const target = fnTarget(k);
    const bad: [() => unknown, RegExp][] = [
      [() => broadcast(k, 'a\nb', 1), /event/],
      [() => broadcast(k, 'a\rb', 1), /event/],
      [() => broadcast(k, { event: 'x\r\n', data: 1 }), /event/],
      [() => broadcast(k, 'ok', 1, { id: 'a\nb' }), /id/],
      [() => broadcast(k, { data: 1, id: 'x\0' }), /id/],
      [() => broadcast(k, 'ok', 1, { retry: -1 }), /retry/],
      [() => broadcast(k, { data: 1, retry: 1.5 }), /retry/],
      [() => broadcast(k, 'ok', 10n), /data/],
      [() => broadcast(k, { event: 42 as unknown as string, data: 1 }), /event/],
    ];
    for (const [call, message] of bad) {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(message);
    }
    expect(target.got).toEqual([]);
    expect(broadcast(k, 'ok', 'after')).toBe(2);
    await client.waitForEvents(1);
    expect(client.reader.bodyText).toBe(encodeEvent({ event: 'ok', data: 'after' }).toString());
    expect(target.got).toEqual([{ event: 'ok', data: 'after' }]);
    expect(stream.closed).toBe(false);
  });

  test('with replay configured and no id given, ids are "1", "2", ... per key; an explicit id is kept; keys without replay get no id', async () => {
    const [k1, k2, plain] = [newKey('ids1'), newKey('ids2'), newKey('plain')];
    configureKey(k1, { replay: { maxEvents: 100 } });
    configureKey(k2, { replay: { maxEvents: 100 } });
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: [k1, k2, plain] });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    broadcast(k1, 'e', 'a');
    broadcast(k1, 'e', 'b');
    broadcast(k2, 'e', 'c');
    broadcast(k1, 'e', 'd', { id: 'custom' });
    broadcast(plain, 'e', 'p');
    broadcast(k1, { event: 'e', data: 'e' });
    broadcast(k2, { data: 'f' });
    broadcast(k2, { data: 'g', id: 99 });
    await client.waitForEvents(8);
    const got = client.events.map((e) => [e.data, e.id]);
    expect(got.slice(0, 5)).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '1'],
      ['d', 'custom'],
      ['p', undefined],
    ]);
    // After an explicit id the counter still increases.
    expect(got[5][0]).toBe('e');
    expect(got[5][1]).toMatch(/^\d+$/);
    expect(Number(got[5][1])).toBeGreaterThan(2);
    expect(got.slice(6)).toEqual([
      ['f', '2'],
      ['g', '99'],
    ]);
  });

  test('ids keep increasing across many broadcasts (decimal strings, no padding)', async () => {
    const k = newKey('many-ids');
    configureKey(k, { replay: { maxEvents: 10 } });
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    for (let i = 1; i <= 150; i++) broadcast(k, 'n', i);
    await client.waitForEvents(150);
    expect(client.events.map((e) => e.id)).toEqual(Array.from({ length: 150 }, (_, i) => String(i + 1)));
    expect(client.events.map((e) => e.data)).toEqual(Array.from({ length: 150 }, (_, i) => String(i + 1)));
  });
});
