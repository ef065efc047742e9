// Fan-out across processes: two and three instances (child processes running
// dist/ as an app would) bridged to one real redis-server. A broadcast in any
// instance reaches the key's members in every instance exactly once (the
// publisher's own members too, not twice), every member sees the same order,
// and on a replay key the event ids are the Redis Stream's ids everywhere.
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

/** Opens `n` clients of `key` on the instance (alternating adopted and res.write sinks), each subscribed. */
async function join(node: NodeProc, key: string, n: number, headers: Record<string, string> = {}): Promise<SSEClient[]> {
  const out: SSEClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connect(node.port, { path: `/events?key=${encodeURIComponent(key)}&adopt=${i % 2 === 0 ? 1 : 0}`, headers });
    clients.push(c);
    out.push(c);
  }
  await Promise.all(out.map((c) => c.waitFor((x) => x.comments.includes('subscribed'), 'the subscription')));
  return out;
}

const data = (c: SSEClient) => c.events.map((e) => e.data);

test('two instances: each broadcast reaches every member of both once, in one order for all', async () => {
  const keys: KeyReplay = {};
  const [a, b] = await Promise.all([NodeProc.start(redis.url, keys), NodeProc.start(redis.url, keys)]);
  const onA = await join(a, 'room', 3);
  const onB = await join(b, 'room', 3);
  await Promise.all([a.broadcast('room', 100, { prefix: 'a' }), b.broadcast('room', 100, { prefix: 'b', intervalMs: 1 })]);
  const all = [...onA, ...onB];
  await Promise.all(all.map((c) => c.waitForEvents(200)));
  const first = data(all[0]);
  const expectA = Array.from({ length: 100 }, (_, i) => `a${i + 1}`);
  const expectB = Array.from({ length: 100 }, (_, i) => `b${i + 1}`);
  for (const c of all) {
    expect(c.events).toHaveLength(200);
    expect(data(c).filter((d) => d!.startsWith('a'))).toEqual(expectA); // once each, publisher's order
    expect(data(c).filter((d) => d!.startsWith('b'))).toEqual(expectB);
    expect(data(c)).toEqual(first); // Redis's order, the same in both processes
    expect(c.events.every((e) => e.event === 'tick' && e.id === undefined)).toBe(true);
  }
  const [ma, mb] = await Promise.all([a.metrics(), b.metrics()]);
  expect(ma.redis.messagesOut).toBe(100);
  expect(mb.redis.messagesOut).toBe(100);
  expect(ma.redis.messagesIn).toBe(200); // its own 100 came back once, not twice
  expect(mb.redis.messagesIn).toBe(200);
  expect(ma.redis.outboxDepth).toBe(0);
  expect(ma.redis.state).toBe('ready');
  expect(ma.redis.lag.count).toBe(200);
  // One native broadcast per incoming message, whatever the member count.
  expect(ma.hub.broadcasts).toBe(200);
});

test('three instances on a replay key: ids are the Stream ids, the same for every member', async () => {
  const keys: KeyReplay = { feed: { maxEvents: 1000 } };
  const nodes = await Promise.all([0, 1, 2].map(() => NodeProc.start(redis.url, keys)));
  const members = (await Promise.all(nodes.map((n) => join(n, 'feed', 2)))).flat();
  await Promise.all(nodes.map((n, i) => n.broadcast('feed', 50, { prefix: `n${i}-`, intervalMs: i })));
  await Promise.all(members.map((c) => c.waitForEvents(150)));
  const ids = members[0].events.map((e) => e.id!);
  expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);
  for (let i = 1; i < ids.length; i++) {
    const [pm, ps] = ids[i - 1].split('-').map(BigInt);
    const [m, s] = ids[i].split('-').map(BigInt);
    expect(m > pm || (m === pm && s > ps)).toBe(true);
  }
  for (const c of members) {
    expect(c.events).toHaveLength(150);
    expect(c.events.map((e) => e.id)).toEqual(ids);
    expect(data(c)).toEqual(data(members[0]));
    for (let i = 0; i < 3; i++) {
      expect(data(c).filter((d) => d!.startsWith(`n${i}-`))).toEqual(Array.from({ length: 50 }, (_, j) => `n${i}-${j + 1}`));
    }
  }
});

test('a key with no member in an instance costs that instance nothing; others still get it', async () => {
  const [a, b] = await Promise.all([NodeProc.start(redis.url), NodeProc.start(redis.url)]);
  const onB = await join(b, 'lonely', 2);
  await a.broadcast('lonely', 20);
  await Promise.all(onB.map((c) => c.waitForEvents(20)));
  const ma = await a.metrics();
  expect(ma.redis.messagesOut).toBe(20);
  expect(ma.redis.messagesIn).toBe(0); // not subscribed: no member here
  expect(onB.map((c) => data(c).join(','))).toEqual([0, 1].map(() => Array.from({ length: 20 }, (_, i) => `e${i + 1}`).join(',')));
});
