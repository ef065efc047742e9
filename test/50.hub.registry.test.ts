// The hub's registry on both sinks: a stream in several keys gets each key's
// broadcasts once; once it closes (the client leaves or the server closes
// it) it is in no key; unregisterConnection; send-function targets; unknown
// keys; and the TypeErrors for bad keys and targets.
import {
  broadcast,
  configureKey,
  createSSEStream,
  encodeEvent,
  getConnectionCount,
  getConnectionKeys,
  registerConnection,
  setLimits,
  unregisterConnection,
  type SSEMessage,
} from '../lib/index';
import { SINKS, connect, within, type SSEClient } from './helpers/server';
import { closedStream, fnTarget, newKey, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

const pairs = (c: SSEClient) => c.events.map((e) => [e.event, e.data]);

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test("a stream in several keys (the key option and registerConnection) gets each key's broadcasts, once each, in order", async () => {
    const [a, b, c] = [newKey('a'), newKey('b'), newKey('c')];
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: [a, b] });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(registerConnection(c, stream)).toBe(true);
    expect([getConnectionCount(a), getConnectionCount(b), getConnectionCount(c)]).toEqual([1, 1, 1]);
    expect(getConnectionKeys()).toEqual(expect.arrayContaining([a, b, c]));
    expect(getConnectionCount()).toBe(1);

    expect(broadcast(a, 'from-a', 1)).toBe(1);
    expect(broadcast(b, 'from-b', { n: 2 })).toBe(1);
    expect(broadcast(c, { event: 'from-c', data: 'three' })).toBe(1);
    expect(broadcast(a, 'from-a', 4)).toBe(1);
    await client.waitForEvents(4);
    expect(pairs(client)).toEqual([
      ['from-a', '1'],
      ['from-b', '{"n":2}'],
      ['from-c', 'three'],
      ['from-a', '4'],
    ]);
  });

  test('a key given as a string at creation; registering the same stream twice in a key still delivers once', async () => {
    const a = newKey('a');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: a });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    registerConnection(a, stream);
    registerConnection(a, stream);
    expect(getConnectionCount(a)).toBe(1);
    expect(broadcast(a, 'once', 1)).toBe(1);
    stream.send({ event: 'marker', data: 'm' });
    await client.waitForEvents(2);
    expect(pairs(client)).toEqual([
      ['once', '1'],
      ['marker', 'm'],
    ]);
  });

  test('a client that leaves is in no key afterwards: counts, keys and broadcast() reflect it at once', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const srv = await startHub((req) => ({ ...sinkOpts, heartbeatMs: 0, key: req.url === '/ab' ? [a, b] : [b] }));
    const leaving = await connect(srv.port, { path: '/ab' });
    const { stream: gone } = await srv.opened.next();
    const staying = await connect(srv.port, { path: '/b' });
    const { stream: stays } = await srv.opened.next();
    expect([gone.sinkKind, stays.sinkKind]).toEqual([kind, kind]);
    expect([getConnectionCount(a), getConnectionCount(b), getConnectionCount()]).toEqual([1, 2, 2]);
    expect(broadcast(b, 'both', 1)).toBe(2);
    await leaving.waitForEvents(1);
    await staying.waitForEvents(1);

    leaving.destroy();
    await closedStream(gone, "the stream's 'close' after its client left");
    expect(getConnectionCount(a)).toBe(0);
    expect(getConnectionCount(b)).toBe(1);
    expect(getConnectionCount()).toBe(1);
    expect(getConnectionKeys()).not.toContain(a);
    expect(getConnectionKeys()).toContain(b);
    expect(broadcast(a, 'nobody', 1)).toBe(0);
    expect(broadcast(b, 'one', 2)).toBe(1);
    expect(registerConnection(a, gone)).toBe(false);
    expect(getConnectionCount(a)).toBe(0);
    expect(unregisterConnection(b, gone)).toBe(false);
    await staying.waitForEvents(2);
    expect(pairs(staying)).toEqual([
      ['both', '1'],
      ['one', '2'],
    ]);
    expect(stays.closed).toBe(false);
  });

  test('a stream the server closes is in no key afterwards; the client got everything before the end', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: [a, b] });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(broadcast(a, 'last', 1)).toBe(1);
    stream.close();
    await client.waitForEnd();
    await closedStream(stream);
    expect(pairs(client)).toEqual([['last', '1']]);
    expect([getConnectionCount(a), getConnectionCount(b), getConnectionCount()]).toEqual([0, 0, 0]);
    expect(getConnectionKeys()).not.toContain(a);
    expect(getConnectionKeys()).not.toContain(b);
    expect(broadcast(a, 'nobody', 1)).toBe(0);
    expect(broadcast(b, { data: 'nobody' })).toBe(0);
    expect(registerConnection(a, stream)).toBe(false);
    expect(getConnectionKeys()).not.toContain(a);
  });

  test('unregisterConnection: true for a member, false after; the stream keeps its other keys', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: [a, b] });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(unregisterConnection(a, stream)).toBe(true);
    expect(unregisterConnection(a, stream)).toBe(false);
    expect(getConnectionCount(a)).toBe(0);
    expect(getConnectionKeys()).not.toContain(a);
    expect(getConnectionCount(b)).toBe(1);
    expect(broadcast(a, 'not-for-me', 1)).toBe(0);
    expect(broadcast(b, 'for-me', 2)).toBe(1);
    await client.waitForEvents(1);
    expect(pairs(client)).toEqual([['for-me', '2']]);
    // Re-registering works, and the stream stays open throughout.
    expect(registerConnection(a, stream)).toBe(true);
    expect(broadcast(a, 'back', 3)).toBe(1);
    await client.waitForEvents(2);
    expect(pairs(client)).toEqual([
      ['for-me', '2'],
      ['back', '3'],
    ]);
    expect(stream.closed).toBe(false);
  });

  test('getConnectionCount() counts distinct connections in keys; a stream in no key is not counted', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const srv = await startHub((req) => ({
      ...sinkOpts,
      heartbeatMs: 0,
      key: req.url === '/ab' ? [a, b] : req.url === '/b' ? b : undefined,
    }));
    const clients = [];
    const streams = [];
    for (const path of ['/ab', '/b', '/none']) {
      clients.push(await connect(srv.port, { path }));
      streams.push((await srv.opened.next()).stream);
    }
    expect(streams.map((s) => s.sinkKind)).toEqual([kind, kind, kind]);
    expect(getConnectionCount(a)).toBe(1);
    expect(getConnectionCount(b)).toBe(2);
    expect(getConnectionCount()).toBe(2);
    expect(getConnectionKeys().filter((k) => k === a || k === b).sort()).toEqual([a, b].sort());
    clients[0].destroy();
    await closedStream(streams[0]);
    expect(getConnectionCount()).toBe(1);
    streams[1].close();
    await closedStream(streams[1]);
    expect(getConnectionCount()).toBe(0);
    expect(streams[2].closed).toBe(false);
  });

  test('streams and a send function in one key all receive; broadcast() returns how many were handed the event', async () => {
    const k = newKey('mixed');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k });
    const clients = [await connect(srv.port), await connect(srv.port)];
    const streams = [(await srv.opened.next()).stream, (await srv.opened.next()).stream];
    expect(streams.map((s) => s.sinkKind)).toEqual([kind, kind]);
    const target = fnTarget(k);
    expect(getConnectionCount(k)).toBe(3);
    expect(broadcast(k, 'all', { to: 'everyone' }, { id: 'e1' })).toBe(3);
    for (const c of clients) {
      await c.waitForEvents(1);
      expect(c.events).toEqual([{ event: 'all', data: '{"to":"everyone"}', id: 'e1' }]);
    }
    expect(target.got).toEqual([{ event: 'all', data: { to: 'everyone' }, id: 'e1' }]);
  });
});

describe.each(SINKS)('%s sink: edges', (kind, sinkOpts) => {
  test('a POST stream joins its key while its body is still read: broadcasts before and after adoption arrive once, in order', async () => {
    const k = newKey('post');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k });
    const client = await connect(srv.port, { method: 'POST', headers: { 'Content-Length': '10' }, body: 'half-' });
    const { stream } = await srv.opened.next();
    expect(getConnectionCount(k)).toBe(1);
    expect(broadcast(k, 'before', 1)).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    client.socket.write('body!');
    await client.waitForHead();
    await client.waitForEvents(1);
    expect(stream.sinkKind).toBe(kind);
    expect(broadcast(k, 'after', 2)).toBe(1);
    await client.waitForEvents(2);
    stream.send({ event: 'marker', data: 'm' });
    await client.waitForEvents(3);
    expect(pairs(client)).toEqual([
      ['before', '1'],
      ['after', '2'],
      ['marker', 'm'],
    ]);
  });

  test('a POST stream whose client leaves before the body ended is in no key', async () => {
    const k = newKey('post-gone');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k });
    const client = await connect(srv.port, { method: 'POST', headers: { 'Content-Length': '100' }, body: 'partial' });
    const { stream } = await srv.opened.next();
    expect(getConnectionCount(k)).toBe(1);
    client.destroy();
    await closedStream(stream);
    expect(getConnectionCount(k)).toBe(0);
    expect(getConnectionKeys()).not.toContain(k);
    expect(broadcast(k, 'nobody', 1)).toBe(0);
  });

  test('after close() (still flushing) a broadcast no longer reaches the stream; the client ends with what came before', async () => {
    const k = newKey('closing');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, highWaterMark: 1 << 20, maxBuffered: 1 << 22 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    for (let i = 0; i < 50; i++) broadcast(k, 'before', 'x'.repeat(1000));
    stream.close();
    const handed = broadcast(k, 'too-late', 1);
    await client.waitForEnd();
    await closedStream(stream);
    expect(client.events.length).toBe(50);
    expect(client.events.every((e) => e.event === 'before')).toBe(true);
    expect(getConnectionCount(k)).toBe(0);
    // Not handed to a stream that is closing: the same count on every sink.
    expect(handed).toBe(0);
  });
});

describe('web streams (createSSEStream() with no request)', () => {
  test('a web stream joins with the key option, gets the same bytes as send() would write, and leaves when its reader cancels', async () => {
    const k = newKey('web');
    const web = createSSEStream({ key: k, heartbeatMs: 0 });
    expect(web.sse.sinkKind).toBe('web');
    expect(getConnectionCount(k)).toBe(1);
    expect(broadcast(k, 'w', { n: 1 }, { id: 'w1' })).toBe(1);
    expect(broadcast(k, { data: 'two' })).toBe(1);
    const expected = Buffer.concat([encodeEvent({ event: 'w', data: { n: 1 }, id: 'w1' }), encodeEvent({ data: 'two' })]);
    const reader = web.stream.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    while (length < expected.length) {
      const { value, done } = await within(reader.read(), 'the web stream to yield the broadcasts');
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    await reader.cancel();
    await closedStream(web.sse);
    expect(getConnectionCount(k)).toBe(0);
    expect(broadcast(k, 'gone', 1)).toBe(0);
  });
});

describe('send-function targets', () => {
  test('a function receives the SSEMessage of each broadcast (both forms); unregistering stops it', () => {
    const k = newKey('fn');
    const got: SSEMessage[] = [];
    const fn = (msg: SSEMessage) => got.push(msg);
    expect(registerConnection(k, fn)).toBe(true);
    try {
      expect(getConnectionCount(k)).toBe(1);
      expect(getConnectionKeys()).toContain(k);
      expect(broadcast(k, 'notification', { message: 'hi' }, { id: '7', retry: 1000 })).toBe(1);
      expect(broadcast(k, { event: 'raw', data: '[DONE]', id: 'x' })).toBe(1);
      expect(broadcast(k, { data: 'plain' })).toBe(1);
      expect(got).toEqual([
        { event: 'notification', data: { message: 'hi' }, id: '7', retry: 1000 },
        { event: 'raw', data: '[DONE]', id: 'x' },
        { data: 'plain' },
      ]);
      expect(unregisterConnection(k, fn)).toBe(true);
      expect(unregisterConnection(k, fn)).toBe(false);
      expect(getConnectionCount(k)).toBe(0);
      expect(getConnectionKeys()).not.toContain(k);
      expect(broadcast(k, 'after', 1)).toBe(0);
      expect(got).toHaveLength(3);
    } finally {
      unregisterConnection(k, fn);
    }
  });

  test('one function in two keys gets the broadcasts of both; registering it twice in one key delivers once', () => {
    const [a, b] = [newKey('a'), newKey('b')];
    const target = fnTarget(a, b);
    registerConnection(a, target.fn); // true or false: either way, still one member
    expect([getConnectionCount(a), getConnectionCount(b)]).toEqual([1, 1]);
    expect(broadcast(a, 'ea', 1)).toBe(1);
    expect(broadcast(b, 'eb', 2)).toBe(1);
    expect(target.got.map((m) => m.event)).toEqual(['ea', 'eb']);
    expect(unregisterConnection(a, target.fn)).toBe(true);
    expect(broadcast(a, 'ea', 3)).toBe(0);
    expect(broadcast(b, 'eb', 4)).toBe(1);
    expect(target.got.map((m) => m.data)).toEqual([1, 2, 4]);
  });

  test('broadcast to an unknown key returns 0 and creates no key; unregistering from it returns false', () => {
    const k = newKey('unknown');
    expect(broadcast(k, 'x', 1)).toBe(0);
    expect(broadcast(k, { data: 'y' })).toBe(0);
    expect(getConnectionKeys()).not.toContain(k);
    expect(getConnectionCount(k)).toBe(0);
    expect(unregisterConnection(k, () => undefined)).toBe(false);
  });
});

describe('bad input is a TypeError that says what was expected, and changes nothing', () => {
  const fn = () => undefined;

  test.each([
    ['a number', 123],
    ['an empty string', ''],
    ['undefined', undefined],
    ['null', null],
    ['an object', { key: 'k' }],
  ])('registerConnection with %s as the key', (_, key) => {
    expect(() => registerConnection(key as unknown as string, fn)).toThrow(TypeError);
    expect(() => registerConnection(key as unknown as string, fn)).toThrow(/key/);
  });

  test.each([
    ['a number', 42],
    ['a string', 'send'],
    ['null', null],
    ['undefined', undefined],
    ['a plain object', {}],
    ['an object with send()', { send: () => true }],
  ])('registerConnection with %s as the target', (_, target) => {
    const k = newKey('bad-target');
    expect(() => registerConnection(k, target as unknown as () => void)).toThrow(TypeError);
    expect(() => registerConnection(k, target as unknown as () => void)).toThrow(/target|stream|function/i);
    expect(getConnectionCount(k)).toBe(0);
    expect(getConnectionKeys()).not.toContain(k);
  });

  test.each([
    ['an empty string', ''],
    ['a number', 7],
    ['undefined', undefined],
  ])('broadcast with %s as the key (both forms)', (_, key) => {
    expect(() => broadcast(key as unknown as string, 'e', 1)).toThrow(TypeError);
    expect(() => broadcast(key as unknown as string, 'e', 1)).toThrow(/key/);
    expect(() => broadcast(key as unknown as string, { data: 1 })).toThrow(/key/);
  });

  test('unregisterConnection with a bad key', () => {
    expect(() => unregisterConnection(123 as unknown as string, fn)).toThrow(TypeError);
    expect(() => unregisterConnection('', fn)).toThrow(/key/);
  });

  test.each([
    ['negative maxEvents', { maxEvents: -1 }, /maxEvents/],
    ['fractional maxEvents', { maxEvents: 1.5 }, /maxEvents/],
    ['string maxEvents', { maxEvents: '10' }, /maxEvents/],
    ['NaN maxEvents', { maxEvents: NaN }, /maxEvents/],
    ['negative maxAgeMs', { maxAgeMs: -200 }, /maxAgeMs/],
    ['infinite maxAgeMs', { maxAgeMs: Infinity }, /maxAgeMs/],
  ])('configureKey with %s', (_, replay, message) => {
    const k = newKey('bad-config');
    expect(() => configureKey(k, { replay } as never)).toThrow(TypeError);
    expect(() => configureKey(k, { replay } as never)).toThrow(message);
  });

  test('configureKey with a bad key or options', () => {
    expect(() => configureKey('', { replay: { maxEvents: 10 } })).toThrow(TypeError);
    expect(() => configureKey('', { replay: { maxEvents: 10 } })).toThrow(/key/);
    expect(() => configureKey(5 as unknown as string, { replay: { maxEvents: 10 } })).toThrow(/key/);
    expect(() => configureKey(newKey('k'), null as never)).toThrow(TypeError);
    expect(() => configureKey(newKey('k'), { replay: 5 } as never)).toThrow(/replay/);
  });

  test.each([
    ['fractional maxConnections', { maxConnections: 1.5 }, /maxConnections/],
    ['negative maxConnections', { maxConnections: -1 }, /maxConnections/],
    ['string maxConnectionsPerKey', { maxConnectionsPerKey: '3' }, /maxConnectionsPerKey/],
    ['NaN maxConnectionsPerAddress', { maxConnectionsPerAddress: NaN }, /maxConnectionsPerAddress/],
    ['fractional retryAfterSeconds', { retryAfterSeconds: 2.5 }, /retryAfterSeconds/],
    ['negative retryAfterSeconds', { retryAfterSeconds: -5 }, /retryAfterSeconds/],
  ])('setLimits with %s', (_, limits, message) => {
    expect(() => setLimits(limits as never)).toThrow(TypeError);
    expect(() => setLimits(limits as never)).toThrow(message);
  });

  test('setLimits with no object', () => {
    expect(() => setLimits(null as never)).toThrow(TypeError);
    expect(() => setLimits('many' as never)).toThrow(TypeError);
  });
});
