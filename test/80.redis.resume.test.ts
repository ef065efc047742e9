// Resuming across instances: a client that saw some events on one instance
// and reconnects to another with Last-Event-ID (header or ?lastEventId=) gets
// exactly what it missed from the Redis Stream, once, in order, then live
// events, even while broadcasts keep coming from several instances. An id
// the Stream no longer keeps (or never had) gets sse-gap, as from the ring.
import { connect, type SSEClient } from './helpers/server';
import { NodeProc, RedisServer, stopNodes, type KeyReplay } from './helpers/redis';
import { int, rng } from './helpers/random';

let redis: RedisServer;
const clients: SSEClient[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await stopNodes();
});
afterAll(async () => {
  await redis?.destroy();
});

async function open(node: NodeProc, key: string, lastId?: string, viaQuery = false, adopt = true): Promise<SSEClient> {
  let path = `/events?key=${key}&adopt=${adopt ? 1 : 0}`;
  const headers: Record<string, string> = {};
  if (lastId !== undefined && viaQuery) path += `&lastEventId=${encodeURIComponent(lastId)}`;
  else if (lastId !== undefined) headers['Last-Event-ID'] = lastId;
  const c = await connect(node.port, { path, headers });
  clients.push(c);
  await c.waitFor((x) => x.comments.includes('subscribed'), 'the subscription');
  return c;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `e${from + i}`);
const data = (c: SSEClient) => c.events.map((e) => e.data);

test('a client that saw events on A resumes on B with exactly what it missed, then live', async () => {
  const keys: KeyReplay = { story: { maxEvents: 1000 } };
  const [a, b] = await Promise.all([NodeProc.start(redis.url, keys), NodeProc.start(redis.url, keys)]);
  const first = await open(a, 'story');
  await a.broadcast('story', 30);
  await first.waitForEvents(30);
  const seenId = first.events[9].id!; // it saw e1..e10 and dropped
  first.destroy();
  await b.broadcast('story', 20, { start: 31 });
  const again = await open(b, 'story', seenId);
  await again.waitForEvents(40);
  expect(data(again)).toEqual(range(11, 50));
  await a.broadcast('story', 10, { start: 51 });
  await again.waitForEvents(50);
  expect(data(again)).toEqual(range(11, 60));
  expect(again.events.map((e) => e.id)).toEqual(first.events.slice(10, 30).map((e) => e.id).concat(again.events.slice(20).map((e) => e.id)));
  const mb = await b.metrics();
  expect(mb.redis.resumesFromLog).toBe(1);
  expect(mb.redis.resumeGaps).toBe(0);
});

test('clients hopping between instances during broadcasts from both end with every event once, in order', async () => {
  const keys: KeyReplay = { hop: { maxEvents: 1000 } };
  const nodes = await Promise.all([0, 1].map(() => NodeProc.start(redis.url, keys)));
  const TOTAL = 300;
  const CLIENTS = 4;
  const HOPS = 8;
  const r = rng(80);
  // Every client is in before the first broadcast: then it may miss nothing.
  const firsts = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => open(nodes[i % 2], 'hop', undefined, false, i % 2 === 0)));
  const runClient = async (seed: number) => {
    const seen: string[] = [];
    let lastId: string | undefined;
    let c = firsts[seed];
    for (let hop = 0; ; hop++) {
      const want = seen.length + 1 + int(r, 40);
      const done = hop >= HOPS;
      await c.waitFor((x) => seen.length + x.events.length >= (done ? TOTAL : Math.min(want, TOTAL)), `event ${want} (seen ${seen.length}, hop ${hop}, seed ${seed}, lastId ${lastId})`, 15_000);
      seen.push(...data(c).map(String));
      lastId = c.events[c.events.length - 1]?.id ?? lastId;
      c.destroy();
      if (seen.length >= TOTAL) return seen;
      c = await open(nodes[(seed + hop + 1) % 2], 'hop', lastId, hop % 2 === 0, hop % 3 !== 0);
    }
  };
  const runs = Array.from({ length: CLIENTS }, (_, i) => runClient(i));
  // Broadcasts alternate between the instances: e1 from A, e2 from B, ...
  // each instance paced, so resumes land in the middle of the stream.
  await Promise.all([
    (async () => {
      for (let i = 1; i <= TOTAL; i += 20) {
        await nodes[(i - 1) / 20 % 2].broadcast('hop', 20, { start: i, intervalMs: 2 });
      }
    })(),
    ...runs,
  ]);
  const results = await Promise.all(runs);
  for (const seen of results) expect(seen).toEqual(range(1, TOTAL));
  const ms = await Promise.all(nodes.map((n) => n.metrics()));
  expect(ms.reduce((s, m) => s + (m.redis.resumesFromLog as number) + (m.redis.resumesFromRing as number), 0)).toBe(CLIENTS * HOPS);
  expect(ms.reduce((s, m) => s + (m.redis.resumeGaps as number), 0)).toBe(0);
}, 60_000);

test('an id the Stream no longer keeps, or never had, gets sse-gap; a client at the head resumes from the ring', async () => {
  const keys: KeyReplay = { short: { maxEvents: 5 } };
  const [a, b] = await Promise.all([NodeProc.start(redis.url, keys), NodeProc.start(redis.url, keys)]);
  const watcher = await open(a, 'short');
  await a.broadcast('short', 20);
  await watcher.waitForEvents(20);
  const old = watcher.events[2].id!;
  const head = watcher.events[19].id!;

  const late = await open(b, 'short', old);
  await late.waitForEvents(1);
  expect(late.events[0].event).toBe('sse-gap');
  expect(JSON.parse(late.events[0].data)).toEqual({ lastEventId: old });

  const bogus = await open(b, 'short', 'not-an-id', true);
  await bogus.waitForEvents(1);
  expect(bogus.events[0]).toMatchObject({ event: 'sse-gap', data: JSON.stringify({ lastEventId: 'not-an-id' }) });

  const inWindow = await open(b, 'short', watcher.events[16].id!);
  await inWindow.waitForEvents(3);
  expect(data(inWindow)).toEqual(range(18, 20));

  const atHead = await open(a, 'short', head);
  await a.broadcast('short', 1, { start: 21 });
  for (const c of [late, bogus, inWindow, atHead]) await c.waitFor((x) => x.events.some((e) => e.data === 'e21'), 'e21');
  expect(data(atHead)).toEqual(['e21']);
  expect(data(late)).toEqual([late.events[0].data, 'e21']);
  const [ma, mb] = await Promise.all([a.metrics(), b.metrics()]);
  expect(ma.redis.resumesFromRing).toBe(1);
  expect(mb.redis.resumeGaps).toBe(2);
  expect(mb.redis.resumesFromLog).toBe(3);
});
