// Fast producers are not slow consumers (issue 11 #2). A member is judged
// after the flush tried to write, and by time: its queue above highWaterMark
// with no byte taken for slowConsumerMs, or more than maxBuffered of its own
// bytes waiting behind a write that made no progress. A broadcast frame
// shared by many members costs each its share. `drained(key)` is the
// broadcast backpressure signal.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { EventSource, broadcast, drained, getBackpressure, getConnectionCount, getMetrics } from '../lib/index';
import type { SSEStream } from '../lib/stream/stream';
import { slowClient } from './helpers/slow-client';
import { SINKS, connect, eventually, startSSE, turn, useTestEnv, within } from './helpers/server';

const children = new Set<ChildProcessWithoutNullStreams>();
useTestEnv(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

// N clients that never read (4 KiB receive buffers), in one Python process.
async function stalledClients(port: number, urlPath: string, n: number): Promise<void> {
  const child = spawn('python3', [path.join(__dirname, 'helpers/stalled_clients.py'), String(port), urlPath, String(n)]);
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await within(
    new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).once('line', resolve);
      child.once('close', (code) => reject(new Error(`stalled_clients.py exited (${code}): ${stderr}`)));
    }),
    `${n} stalled clients to connect`,
    30_000,
  );
  expect(JSON.parse(line)).toEqual({ ready: n });
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('a healthy reader receives a 12 MB synchronous burst with the default options', async () => {
    const srv = await startSSE({ ...sinkOpts });
    // Our Node EventSource (native parser): a reader that keeps up.
    const es = new EventSource(`http://127.0.0.1:${srv.port}/burst`);
    const ids: string[] = [];
    let bad = 0;
    const data = 'x'.repeat(48);
    es.onmessage = (e) => {
      ids.push(e.lastEventId);
      if (e.data !== data) bad++;
    };
    try {
      const { stream } = await srv.opened.next();
      expect(stream.sinkKind).toBe(kind);
      await eventually(() => es.readyState === EventSource.OPEN, 'the EventSource to open');
      const N = 200_000;
      for (let i = 0; i < N; i++) stream.send({ id: String(i), data }); // ~12.6 MB in one turn
      expect(stream.closed).toBe(false);
      await eventually(() => ids.length >= N || stream.closed, `${N} events`, 60_000);
      expect(stream.closed).toBe(false);
      expect(ids.length).toBe(N);
      expect(bad).toBe(0);
      expect(ids.every((id, i) => id === String(i))).toBe(true);
    } finally {
      es.close();
    }
  }, 90_000);

  test('a reader that never reads is closed within slowConsumerMs, with bounded memory', async () => {
    const slowConsumerMs = 2000;
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, slowConsumerMs });
    const slow = slowClient(srv.port, '/never-reads');
    const { stream } = await srv.opened.next();
    await slow.ready;
    const rss0 = rssMb();
    let rssMax = rss0;
    const chunk = 'y'.repeat(16 * 1024);
    const start = Date.now();
    let attempted = 0;
    // 256 KiB per turn for as long as the stream is open (at most 2 GiB).
    while (!stream.closed && attempted < 2 ** 31) {
      for (let i = 0; i < 16; i++) stream.send({ data: chunk });
      attempted += 16 * chunk.length;
      await turn();
      rssMax = Math.max(rssMax, rssMb());
    }
    const elapsed = Date.now() - start;
    expect(stream.closed).toBe(true);
    expect((stream.closeReason as { code?: string }).code).toBe('SSE_SLOW_CONSUMER');
    expect(elapsed).toBeLessThan(slowConsumerMs + 3000);
    expect(rssMax - rss0).toBeLessThan(128);
    await slow.kill();
  }, 30_000);

  test("onSlowConsumer 'drop': a reader that never reads holds bounded memory while the producer goes on", async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, onSlowConsumer: 'drop' });
    const slow = slowClient(srv.port, '/never-reads');
    const { stream } = await srv.opened.next();
    await slow.ready;
    const drops0 = getMetrics().drops;
    const rss0 = rssMb();
    let rssMax = rss0;
    let maxBuffered = 0;
    const chunk = 'y'.repeat(16 * 1024);
    // 512 MiB offered, 256 KiB per turn.
    for (let turnNo = 0; turnNo < 2048; turnNo++) {
      for (let i = 0; i < 16; i++) stream.send({ data: chunk });
      await turn();
      maxBuffered = Math.max(maxBuffered, stream.bufferedAmount);
      if (turnNo % 64 === 0) rssMax = Math.max(rssMax, rssMb());
    }
    expect(stream.closed).toBe(false);
    expect(maxBuffered).toBeLessThan(8 * 2 ** 20);
    expect(getMetrics().drops - drops0).toBeGreaterThan(1000);
    expect(rssMax - rss0).toBeLessThan(128);
    await slow.kill();
  }, 60_000);
});

test('500 members that never read and 5 fast ones in one key: the fast ones get everything, the stuck ones are closed', async () => {
  const key = `fast-producer-${process.pid}`;
  const slowConsumerMs = 1500;
  const srv = await startSSE((req) => ({
    key,
    heartbeatMs: 0,
    slowConsumerMs,
    adopt: !req.url?.startsWith('/fast-response'),
  }));
  const streams: SSEStream[] = [];
  const collect = (async () => {
    for (;;) {
      const { stream } = await srv.opened.next();
      streams.push(stream);
    }
  })();
  void collect.catch(() => undefined);
  await stalledClients(srv.port, '/stalled', 500);
  const fast = [];
  for (let i = 0; i < 5; i++) {
    const c = await connect(srv.port, { path: i % 2 ? '/fast-response' : '/fast-adopted' });
    await c.waitForHead();
    fast.push(c);
  }
  await eventually(() => getConnectionCount(key) === 505, 'all 505 members to join');
  const rss0 = rssMb();
  let rssMax = rss0;
  const closes0 = getMetrics().slowConsumerCloses;

  // 4 MB of broadcasts, 40 KB per turn: far more than the stalled members'
  // kernel buffers. The producer awaits drained(key) when members are above
  // their mark: it never piles more than that on anyone.
  const N = 4000;
  const data = 'z'.repeat(1000);
  let waited = 0;
  for (let i = 0; i < N; i++) {
    broadcast(key, 'tick', data, { id: String(i) });
    if (i % 40 === 39) {
      await turn();
      rssMax = Math.max(rssMax, rssMb());
      if (getBackpressure(key) > 0) {
        waited++;
        await within(drained(key), 'drained(key)', slowConsumerMs + 10_000);
      }
    }
  }
  for (const c of fast) await within(c.waitForEvents(N), `a fast member to get ${N} events`, 30_000);
  for (const c of fast) {
    expect(c.events.length).toBe(N);
    expect(c.events.every((e, i) => e.id === String(i))).toBe(true);
  }
  await eventually(() => getConnectionCount(key) === 5, 'the stalled members to be closed', slowConsumerMs + 10_000);
  expect(getMetrics().slowConsumerCloses - closes0).toBe(500);
  const stuck = streams.filter((s) => s.closed);
  expect(stuck.length).toBe(500);
  expect(stuck.every((s) => (s.closeReason as { code?: string }).code === 'SSE_SLOW_CONSUMER')).toBe(true);
  expect(waited).toBeGreaterThan(0);
  // Each frame is held once, whatever the number of members it is queued on.
  expect(rssMax - rss0).toBeLessThan(256);
}, 90_000);
