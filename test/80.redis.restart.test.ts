// Faults: redis-server (AOF on, as production runs it) is stopped and started
// again while an instance broadcasts. The bridges reconnect and resubscribe;
// members of a replay key end with every event exactly once, in order (what
// was broadcast during the outage waited in the outbox; what a subscriber
// missed is read back from the Stream); members of a pub/sub key are told
// with sse-gap. A slow or absent Redis never blocks the instance's loop.
import { connect, type SSEClient } from './helpers/server';
import { NodeProc, RedisServer, stopNodes, type KeyReplay } from './helpers/redis';

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

async function open(node: NodeProc, key: string, adopt = true): Promise<SSEClient> {
  const c = await connect(node.port, { path: `/events?key=${key}&adopt=${adopt ? 1 : 0}` });
  clients.push(c);
  await c.waitFor((x) => x.comments.includes('subscribed'), 'the subscription');
  return c;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `e${from + i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(node: NodeProc, pred: (m: Awaited<ReturnType<NodeProc['metrics']>>) => boolean, what: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = await node.metrics();
    if (pred(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; metrics ${JSON.stringify(m.redis)}`);
    await sleep(50);
  }
}

test('redis-server restarted during broadcasts: replay keys lose nothing and repeat nothing; pub/sub keys get sse-gap', async () => {
  const keys: KeyReplay = { log: { maxEvents: 10_000 } };
  const [a, b] = await Promise.all([NodeProc.start(redis.url, keys), NodeProc.start(redis.url, keys)]);
  const logClients = [await open(a, 'log'), await open(a, 'log', false), await open(b, 'log'), await open(b, 'log', false)];
  const chatClients = [await open(a, 'chat'), await open(b, 'chat', false)];
  await b.broadcast('chat', 1, { prefix: 'before' });
  await Promise.all(chatClients.map((c) => c.waitForEvents(1)));

  const TOTAL = 400;
  const sending = a.broadcast('log', TOTAL, { intervalMs: 3 });
  await logClients[2].waitForEvents(50);
  await redis.restart(300); // graceful stop (AOF written), 300 ms down, started again
  await sending;
  await Promise.all(logClients.map((c) => c.waitFor((x) => x.events.length >= TOTAL, `${TOTAL} events`, 20_000)));
  await sleep(200); // a duplicate would arrive right behind
  for (const c of logClients) {
    expect(c.events.map((e) => e.data)).toEqual(range(1, TOTAL));
    const ids = c.events.map((e) => e.id!);
    expect(new Set(ids).size).toBe(TOTAL);
    expect(ids).toEqual(logClients[0].events.map((e) => e.id));
  }

  const [ma, mb] = await Promise.all([
    until(a, (m) => m.state === 'ready' && (m.redis.reconnects as number) >= 1, 'A to reconnect'),
    until(b, (m) => m.state === 'ready' && (m.redis.reconnects as number) >= 1, 'B to reconnect'),
  ]);
  expect(ma.redis.outboxDepth).toBe(0);
  expect(ma.redis.messagesOut).toBe(TOTAL);
  expect((mb.redis.catchUps as number) >= 2).toBe(true); // 'log' and 'chat'
  // Pub/sub keys cannot know what they missed: each member is told once.
  for (const c of chatClients) {
    await c.waitForEvents(2);
    expect(c.events[1]).toMatchObject({ event: 'sse-gap', data: JSON.stringify({ lastEventId: '' }) });
  }
  await a.broadcast('chat', 1, { prefix: 'after' });
  for (const c of chatClients) {
    await c.waitForEvents(3);
    expect(c.events.map((e) => e.data)).toEqual(['before1', JSON.stringify({ lastEventId: '' }), 'after1']);
  }
}, 60_000);
