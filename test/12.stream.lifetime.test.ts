// How an SSE stream ends, on both sinks: close() flushes first, the client
// leaving (destroy or half-close) aborts the signal, 'close' fires exactly
// once; Last-Event-ID; and what Node's own objects see once the core has
// adopted the socket (req/res 'close', server.close(), closeAll()).
import { once } from 'node:events';
import { closeAll } from '../lib/index';
import { openStreamCount } from '../lib/stream/stream';
import { SINKS, connect, countCloses, eventually, onNative, startSSE, testAdopted, turn, within, useTestEnv } from './helpers/server';

useTestEnv();

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('close() flushes everything queued, then the client sees the end', async () => {
    const srv = await startSSE({ ...sinkOpts, highWaterMark: 1 << 20, maxBuffered: 1 << 20 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const closes = countCloses(stream);
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 300; i++) stream.send({ id: String(i), data: big });
    stream.close();
    expect(stream.signal.aborted).toBe(false); // the flush is still under way
    await client.waitForEnd();
    expect(client.events.length).toBe(300);
    expect(client.events.map((e) => e.id)).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    if (!stream.closed) await within(once(stream, 'close'), "the stream's 'close'");
    expect(closes.count()).toBe(1);
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeUndefined();
    expect(stream.closed).toBe(true);
  });

  test("close() twice is harmless; send() and comment() after close return false and throw nothing", async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const closes = countCloses(stream);
    stream.send({ data: 'last' });
    stream.close();
    stream.close();
    expect(stream.send({ data: 'too late' })).toBe(false);
    expect(stream.comment('too late')).toBe(false);
    await within(once(stream, 'close'), "the stream's 'close'");
    stream.close();
    expect(stream.send({ data: 'later still' })).toBe(false);
    await client.waitForEnd();
    expect(client.reader.bodyText).toBe('data: last\n\n');
    expect(closes.count()).toBe(1);
  });

  test("the client leaving aborts the signal and fires 'close' once with a closeReason", async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const closes = countCloses(stream);
    const aborted = once(stream.signal, 'abort');
    stream.send({ data: 'hello' });
    await client.waitForEvents(1);
    client.destroy();
    await within(once(stream, 'close'), "the stream's 'close' after the client left");
    await within(aborted, 'the signal to abort');
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeInstanceOf(Error);
    expect(stream.signal.reason).toBe(stream.closeReason);
    expect(stream.closed).toBe(true);
    expect(stream.send({ data: 'nobody' })).toBe(false);
    stream.close();
    expect(closes.count()).toBe(1);
  });

  test('a client that half-closes (end()) is treated as leaving', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const closes = countCloses(stream);
    stream.send({ data: 'hello' });
    await client.waitForEvents(1);
    client.socket.end();
    await within(once(stream, 'close'), "the stream's 'close' after the client's FIN");
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeInstanceOf(Error);
    await client.waitFor((c) => c.closed, 'the client socket to close');
    expect(closes.count()).toBe(1);
  });

  test('lastEventId comes from the Last-Event-ID header', async () => {
    const srv = await startSSE({ ...sinkOpts });
    await connect(srv.port, { headers: { 'Last-Event-ID': 'evt-41' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(stream.lastEventId).toBe('evt-41');
  });

  test('lastEventId comes from the ?lastEventId= query when there is no header', async () => {
    const srv = await startSSE({ ...sinkOpts });
    await connect(srv.port, { path: '/events?topic=a&lastEventId=q%2017' });
    const first = await srv.opened.next();
    expect(first.stream.sinkKind).toBe(kind);
    expect(first.stream.lastEventId).toBe('q 17');
    await connect(srv.port, { path: '/events?lastEventId=from-query', headers: { 'Last-Event-ID': 'from-header' } });
    expect((await srv.opened.next()).stream.lastEventId).toBe('from-header');
    await connect(srv.port, { path: '/events' });
    expect((await srv.opened.next()).stream.lastEventId).toBeUndefined();
  });
});

describe("Node's side", () => {
  test.each(SINKS)("%s: req and res emit 'close' when the client really leaves, for listeners added before and after createSSEStream", async (kind, sinkOpts) => {
    // The req.on('close', cleanup) pattern of every tutorial must not run
    // at adoption (Node's socket object is destroyed then), only when the
    // client leaves.
    const nodeCloses: string[] = [];
    const srv = await startSSE({ ...sinkOpts }, (req, res) => {
      req.on('close', () => nodeCloses.push('req'));
      res.on('close', () => nodeCloses.push('res'));
    });
    const client = await connect(srv.port);
    const { stream, req, res } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    req.on('close', () => nodeCloses.push('req-after'));
    stream.send({ data: 'one' });
    await client.waitForEvents(1);
    await turn();
    expect(nodeCloses).toEqual([]);
    // The response tells the truth about itself.
    expect(res.headersSent).toBe(true);
    expect(res.statusCode).toBe(200);
    stream.send({ data: 'two' });
    await client.waitForEvents(2);
    expect(nodeCloses).toEqual([]);
    client.destroy();
    await within(once(stream, 'close'), "the stream's 'close'");
    await eventually(() => nodeCloses.length === 3, "req and res 'close'");
    expect(nodeCloses.sort()).toEqual(['req', 'req-after', 'res']);
  });

  test.each(SINKS)("%s: a server-side close() ends the response; res 'close' fires once", async (kind, sinkOpts) => {
    const closes: string[] = [];
    const srv = await startSSE({ ...sinkOpts }, (_req, res) => res.on('close', () => closes.push('res')));
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    stream.send({ data: 'bye' });
    stream.close();
    await client.waitForEnd();
    await eventually(() => closes.length === 1, "res 'close'");
    await turn();
    expect(closes).toEqual(['res']);
  });

  testAdopted('adopted: server.close() completes while the stream is open, and the stream keeps working', async () => {
    const srv = await startSSE({});
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe('adopted');
    await client.waitForHead();
    await srv.close(); // Node no longer knows the connection
    expect(srv.server.listening).toBe(false);
    expect(stream.closed).toBe(false);
    expect(stream.send({ data: 'after server.close()' })).toBe(true);
    await client.waitForEvents(1);
    expect(client.events[0].data).toBe('after server.close()');
    stream.close();
    await client.waitForEnd();
  });

  test('response: server.close() waits for the open stream, which keeps working; closeAll() lets it finish', async () => {
    const srv = await startSSE({ adopt: false });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe('response');
    await client.waitForHead();
    let serverClosed = false;
    const closed = new Promise<void>((resolve) => srv.server.close(() => resolve())).then(() => (serverClosed = true));
    stream.send({ data: 'after server.close()' });
    await client.waitForEvents(1);
    expect(serverClosed).toBe(false);
    closeAll();
    await client.waitForEnd();
    // The ended response leaves a kept-alive connection; the client goes.
    client.destroy();
    await within(closed, 'server.close() once the stream ended');
  });

  test('closeAll() ends every open stream of both sinks; each client sees the end', async () => {
    const srv = await startSSE((req) => (req.url === '/fallback' ? { adopt: false } : {}));
    const clients = [];
    const streams = [];
    for (const path of ['/a', '/fallback', '/b', '/fallback']) {
      clients.push(await connect(srv.port, { path }));
      streams.push((await srv.opened.next()).stream);
    }
    // The TypeScript backend has no adoption: all four write through res.write.
    expect(streams.map((s) => s.sinkKind)).toEqual(onNative ? ['adopted', 'response', 'adopted', 'response'] : Array(4).fill('response'));
    const closes = streams.map(countCloses);
    expect(openStreamCount()).toBe(4);
    streams.forEach((s, i) => s.send({ data: `last ${i}` }));
    closeAll();
    await Promise.all(clients.map((c) => c.waitForEnd()));
    clients.forEach((c, i) => expect(c.events.map((e) => e.data)).toEqual([`last ${i}`]));
    await Promise.all(streams.map((s) => (s.closed ? undefined : within(once(s, 'close'), "each stream's 'close'"))));
    expect(closes.map((c) => c.count())).toEqual([1, 1, 1, 1]);
    expect(streams.every((s) => s.signal.aborted && s.closeReason === undefined)).toBe(true);
    expect(openStreamCount()).toBe(0);
  });
});
