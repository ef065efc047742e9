// 1 000 clients over two instances (raw sockets, half on each, both sinks):
// broadcasts from both instances reach every client exactly once, in the
// same order everywhere, and each instance makes one native broadcast per
// message from Redis, not one JS call per member.
import { connect, type SSEClient } from './helpers/server';
import { NodeProc, RedisServer, stopNodes, type KeyReplay } from './helpers/redis';

let redis: RedisServer;
const clients: SSEClient[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await stopNodes();
  await redis?.destroy();
});

test('1 000 clients over two instances each get every broadcast once, in one order', async () => {
  const keys: KeyReplay = { crowd: { maxEvents: 100 } };
  const nodes = await Promise.all([NodeProc.start(redis.url, keys), NodeProc.start(redis.url, keys)]);
  const N = 1000;
  for (let i = 0; i < N; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, (_, j) => connect(nodes[(i + j) % 2].port, { path: `/events?key=crowd&adopt=${(i + j) % 4 < 2 ? 1 : 0}` })),
    );
    clients.push(...batch);
  }
  await Promise.all(clients.map((c) => c.waitFor((x) => x.comments.includes('subscribed'), 'the subscription', 30_000)));
  const counts = await Promise.all(nodes.map((n) => n.request({ op: 'count', key: 'crowd' })));
  expect(counts.map((c) => c.count)).toEqual([N / 2, N / 2]);

  await Promise.all([nodes[0].broadcast('crowd', 20, { prefix: 'a' }), nodes[1].broadcast('crowd', 20, { prefix: 'b' })]);
  await Promise.all(clients.map((c) => c.waitFor((x) => x.events.length >= 40, '40 events', 30_000)));
  const order = clients[0].events.map((e) => `${e.id}/${e.data}`);
  expect(new Set(order).size).toBe(40);
  for (const c of clients) {
    expect(c.events.map((e) => `${e.id}/${e.data}`)).toEqual(order);
  }
  const ms = await Promise.all(nodes.map((n) => n.metrics()));
  for (const m of ms) {
    expect(m.redis.messagesIn).toBe(40);
    expect(m.hub.broadcasts).toBe(40); // one native fan-out per message, for 500 members
  }
}, 90_000);
