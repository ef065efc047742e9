// closeAll(finalMsg) on shutdown: every open stream of both sinks, in keys
// or not, gets what was queued, then the final event, then the end of the
// stream; 'close' fires once on each; the hub is empty afterwards (and
// still usable). A bad final message is a TypeError before anything closes.
import { broadcast, closeAll, createSSEStream, encodeEvent, getConnectionCount, getConnectionKeys } from '../lib/index';
import { openStreamCount } from '../lib/stream/stream';
import { connect, countCloses, eventually, onNative, within, type SSEClient } from './helpers/server';
import { closedStream, newKey, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

const PATHS = ['/adopted/key', '/adopted/none', '/response/key', '/response/none'];

async function openAll(k: string) {
  const srv = await startHub((req) => ({
    adopt: !req.url!.startsWith('/response'),
    heartbeatMs: 0,
    key: req.url!.endsWith('/key') ? k : undefined,
    highWaterMark: 1 << 20,
    maxBuffered: 4 << 20,
  }));
  const clients: SSEClient[] = [];
  const streams = [];
  for (const path of PATHS) {
    clients.push(await connect(srv.port, { path }));
    streams.push((await srv.opened.next()).stream);
  }
  // The TypeScript backend has no adoption: all four write through res.write.
  expect(streams.map((s) => s.sinkKind)).toEqual(onNative ? ['adopted', 'adopted', 'response', 'response'] : Array(4).fill('response'));
  await Promise.all(clients.map((c) => c.waitForHead()));
  return { srv, clients, streams };
}

test('closeAll(finalMsg): every client (both sinks, in a key or not) gets what was queued, the final event, then the end', async () => {
  const k = newKey('shutdown');
  const { srv, clients, streams } = await openAll(k);
  const closes = streams.map(countCloses);
  expect(getConnectionCount(k)).toBe(2);
  const big = 'q'.repeat(1000);
  streams.forEach((s, i) => {
    for (let j = 0; j < 100; j++) s.send({ id: `${i}-${j}`, data: big });
  });
  expect(broadcast(k, 'news', 'for the keyed ones')).toBe(2);
  closeAll({ event: 'shutdown', data: { reason: 'restart' }, retry: 5000 });
  await Promise.all(clients.map((c) => c.waitForEnd()));
  clients.forEach((c, i) => {
    const keyed = PATHS[i].endsWith('/key');
    const expected = [
      ...Array.from({ length: 100 }, (_, j) => `${i}-${j}`),
      ...(keyed ? [undefined] : []),
      undefined,
    ];
    expect(c.events.map((e) => e.id)).toEqual(expected);
    const last = c.events[c.events.length - 1];
    expect(last).toEqual({ event: 'shutdown', data: '{"reason":"restart"}' });
    expect(c.reader.bodyText.endsWith(encodeEvent({ event: 'shutdown', data: { reason: 'restart' }, retry: 5000 }).toString())).toBe(true);
  });
  await Promise.all(streams.map((s) => closedStream(s)));
  expect(closes.map((c) => c.count())).toEqual([1, 1, 1, 1]);
  expect(streams.every((s) => s.closeReason === undefined && s.signal.aborted)).toBe(true);
  expect(getConnectionCount()).toBe(0);
  expect(getConnectionCount(k)).toBe(0);
  expect(getConnectionKeys()).not.toContain(k);
  expect(openStreamCount()).toBe(0);
  expect(broadcast(k, 'nobody', 1)).toBe(0);

  // The hub still works after a shutdown: a new stream joins and receives.
  const again = await connect(srv.port, { path: '/adopted/key' });
  const { stream } = await srv.opened.next();
  expect(stream.sinkKind).toBe(onNative ? 'adopted' : 'response');
  expect(getConnectionCount(k)).toBe(1);
  expect(broadcast(k, 'back', 1)).toBe(1);
  await again.waitForEvents(1);
  expect(again.events[0].event).toBe('back');
});

test('closeAll() with no final message: every client gets the end and nothing more', async () => {
  const k = newKey('plain-shutdown');
  const { clients, streams } = await openAll(k);
  streams.forEach((s, i) => s.send({ data: `last ${i}` }));
  closeAll();
  await Promise.all(clients.map((c) => c.waitForEnd()));
  clients.forEach((c, i) => expect(c.events.map((e) => e.data)).toEqual([`last ${i}`]));
  await Promise.all(streams.map((s) => closedStream(s)));
  expect(getConnectionCount()).toBe(0);
  await eventually(() => openStreamCount() === 0, 'no open stream');
});

test('closeAll with a bad final message is a TypeError and closes nothing', async () => {
  const k = newKey('bad-final');
  const { clients, streams } = await openAll(k);
  expect(() => closeAll({ event: 'bye\n', data: 1 })).toThrow(TypeError);
  expect(() => closeAll({ event: 'bye\n', data: 1 })).toThrow(/event/);
  expect(() => closeAll({ id: 'a\rb', data: 1 })).toThrow(/id/);
  expect(streams.every((s) => !s.closed)).toBe(true);
  expect(getConnectionCount(k)).toBe(2);
  expect(broadcast(k, 'still', 'here')).toBe(2);
  await clients[0].waitForEvents(1);
  await clients[2].waitForEvents(1);
  expect(clients.map((c) => c.ended)).toEqual([false, false, false, false]);
});

test('closeAll(finalMsg) also ends web streams (createSSEStream() with no request) with the final event', async () => {
  const k = newKey('web-shutdown');
  const web = createSSEStream({ key: k, heartbeatMs: 0 });
  expect(getConnectionCount(k)).toBe(1);
  broadcast(k, 'news', 1);
  closeAll({ event: 'shutdown', data: 'bye' });
  const reader = web.stream.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await within(reader.read(), 'the web stream to end');
    if (done) break;
    chunks.push(value);
  }
  expect(Buffer.concat(chunks).toString()).toBe(
    encodeEvent({ event: 'news', data: 1 }).toString() + encodeEvent({ event: 'shutdown', data: 'bye' }).toString(),
  );
  await closedStream(web.sse);
  expect(web.sse.closeReason).toBeUndefined();
  expect(getConnectionCount(k)).toBe(0);
});

test('closeAll(finalMsg) right after a stream was asked to close: it still ends cleanly, once, with nothing after the end', async () => {
  const k = newKey('closing-shutdown');
  const { clients, streams } = await openAll(k);
  const closes = streams.map(countCloses);
  streams[0].send({ data: 'a' });
  streams[2].send({ data: 'c' });
  streams[0].close();
  streams[2].close();
  closeAll({ event: 'bye', data: 'x' });
  await Promise.all(clients.map((c) => c.waitForEnd()));
  await Promise.all(streams.map((s) => closedStream(s)));
  expect(closes.map((c) => c.count())).toEqual([1, 1, 1, 1]);
  expect(streams.map((s) => s.closeReason)).toEqual([undefined, undefined, undefined, undefined]);
  expect(clients[0].events[0].data).toBe('a');
  expect(clients[2].events[0].data).toBe('c');
  expect(clients[1].events.map((e) => e.event)).toEqual(['bye']);
  expect(clients[3].events.map((e) => e.event)).toEqual(['bye']);
  expect(getConnectionCount()).toBe(0);
});

// Shutdown in a child process: `await closeAll(final)` then process.exit().
// Before closeAll returned a promise, the adopted streams lost everything
// still queued when the process exited.
test('await closeAll(final) then process.exit(): every adopted and fallback client gets all 100 events and the final one', async () => {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const dist = path.join(__dirname, '..', 'dist', 'index.js');
  const script = `
    const http = require('node:http');
    const { createSSEStream, closeAll } = require(${JSON.stringify(dist)});
    const streams = [];
    const server = http.createServer((req, res) => {
      streams.push(createSSEStream(req, res, { adopt: req.url !== '/fallback', heartbeatMs: 0, maxBuffered: 64 << 20, highWaterMark: 1 << 20 }));
      if (streams.length === 4) {
        for (const s of streams) for (let i = 0; i < 100; i++) s.send({ id: String(i), data: 'x'.repeat(2000) });
        closeAll({ event: 'bye', data: 'shutdown' }).then(() => process.exit(0));
      }
    });
    server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Listened for from the start: the child may exit before the clients'
  // last reads are processed here, and a late listener would miss it.
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const port = await within(
      new Promise<number>((resolve) => child.stdout!.on('data', (d: Buffer) => {
        const m = /PORT (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      })),
      'the child to listen',
    );
    const clients = [
      await connect(port, { path: '/a' }),
      await connect(port, { path: '/b' }),
      await connect(port, { path: '/fallback' }),
      await connect(port, { path: '/fallback' }),
    ];
    await Promise.all(clients.map((c) => c.waitForEnd()));
    const exit = await within(exited, 'the child to exit');
    expect(exit).toBe(0);
    for (const c of clients) {
      expect(c.events).toHaveLength(101);
      expect(c.events[99].id).toBe('99');
      expect(c.events[100].event).toBe('bye');
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
});
