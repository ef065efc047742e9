// connectRedis in this process (lib/ through ts-jest): bad options are clear
// TypeErrors, an unreachable Redis is a clear error or, when asked,
// local-only delivery until it answers; the app's own client may be used;
// a Redis that goes away never blocks broadcast, and the outbox is bounded
// by its documented rule (the newest broadcast goes local-only); metrics
// and their Prometheus lines tell the state.
import IORedis from 'ioredis';
import { broadcast, configureKey, getMetrics, metricsText } from '../lib/index';
import { connectRedis, getRedisMetrics, redisMetricsText, SSERedisError, type RedisBridge } from '../lib/redis/index';
import { getBridge } from '../lib/hub/bridge';
import { fnTarget, newKey, parsePrometheus, useHubEnv } from './helpers/hub';
import { eventually } from './helpers/server';
import { freePort, RedisServer } from './helpers/redis';

let bridge: RedisBridge | undefined;
const servers: RedisServer[] = [];
useHubEnv(async () => {
  await bridge?.close();
  bridge = undefined;
  for (const s of servers.splice(0)) await s.destroy();
});

/** The value of one sample of the strictly parsed exposition. */
function promValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parsePrometheus(text).samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  )?.value;
}

async function redis(port?: number): Promise<RedisServer> {
  const s = await RedisServer.start(port);
  servers.push(s);
  return s;
}

test('bad options are TypeErrors that say what to pass', async () => {
  await expect(connectRedis({ url: 'http://x' })).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  await expect(connectRedis({ url: 'http://x' })).rejects.toThrow(/redis:\/\/host:6379/);
  await expect(connectRedis({ client: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  await expect(connectRedis({ maxOutbox: 0 })).rejects.toThrow(/maxOutbox/);
  await expect(connectRedis({ whenUnavailable: 'maybe' as never })).rejects.toThrow(/'throw' or 'local'/);
  const cluster = new IORedis.Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
  await expect(connectRedis({ client: cluster as never })).rejects.toThrow(/Redis Cluster is not supported/);
  cluster.disconnect();
  expect(getBridge()).toBeUndefined();
});

test('an unreachable Redis is a clear error with a code, and nothing is installed', async () => {
  const port = await freePort();
  const err = await connectRedis({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SSERedisError);
  expect(err).toMatchObject({ code: 'ERR_SSE_REDIS_UNAVAILABLE' });
  expect(String((err as Error).message)).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*whenUnavailable: 'local'`));
  expect(getBridge()).toBeUndefined();
  expect(getRedisMetrics().state).toBe('off');
});

test("whenUnavailable 'local': local delivery until Redis answers, then through Redis", async () => {
  const port = await freePort();
  bridge = await connectRedis({ url: `redis://127.0.0.1:${port}`, whenUnavailable: 'local' });
  expect(bridge.state).toBe('connecting');
  const key = newKey('local');
  const t = fnTarget(key);
  expect(broadcast(key, 'x', 'while down')).toBe(1);
  expect(t.got.map((m) => m.data)).toEqual(['while down']);
  expect(getRedisMetrics()).toMatchObject({ state: 'connecting', localOnly: 1, messagesOut: 0 });
  expect(promValue(redisMetricsText(), 'sse_redis_state', { state: 'connecting' })).toBe(1);

  await redis(port);
  await eventually(() => bridge!.state === 'ready', 'the bridge to reach Redis', 15_000);
  await bridge.whenSubscribed(key);
  broadcast(key, 'x', 'through redis');
  await eventually(() => t.got.length === 2, 'the message back from Redis');
  expect(t.got.map((m) => m.data)).toEqual(['while down', 'through redis']);
  expect(getRedisMetrics()).toMatchObject({ state: 'ready', localOnly: 1, messagesOut: 1, messagesIn: 1 });
  // The main entry's metrics carry the bridge's too.
  expect(getMetrics().bridge).toMatchObject({ state: 'ready', messagesOut: 1, messagesIn: 1 });
  expect(promValue(metricsText(), 'sse_redis_state', { state: 'ready' })).toBe(1);
});

test("the app's own client: used for commands, duplicated to subscribe, left open by close()", async () => {
  const s = await redis();
  const client = new IORedis(s.url);
  try {
    bridge = await connectRedis({ client, prefix: 'app:' });
    const key = newKey('own');
    configureKey(key, { replay: { maxEvents: 3 } });
    const t = fnTarget(key);
    await bridge.whenSubscribed(key);
    for (let i = 1; i <= 5; i++) broadcast(key, 'n', String(i));
    expect(getRedisMetrics().outboxDepth).toBe(5);
    await bridge.flushed(); // Redis took all five
    expect(getRedisMetrics()).toMatchObject({ outboxDepth: 0, messagesOut: 5 });
    await eventually(() => t.got.length === 5, 'five messages');
    expect(t.got.map((m) => m.data)).toEqual(['1', '2', '3', '4', '5']);
    expect(t.got.every((m) => /^\d+-\d+$/.test(String(m.id)))).toBe(true);
    // The Stream is trimmed exactly to maxEvents, under the prefix and the key's hash tag.
    expect(await client.xlen(`app:{${key}}`)).toBe(3);
    await bridge.close();
    bridge = undefined;
    expect(await client.ping()).toBe('PONG');
    expect(getBridge()).toBeUndefined();
    // Without a bridge, broadcast is local again.
    broadcast(key, 'n', 'local');
    expect(t.got[5].data).toBe('local');
  } finally {
    client.disconnect();
  }
});

test('Redis gone: broadcast never blocks; the outbox holds maxOutbox, the newest overflow goes local-only; all queued arrive after', async () => {
  const s = await redis();
  bridge = await connectRedis({ url: s.url, maxOutbox: 5 });
  const key = newKey('outbox');
  // A replay key: what was published before this process resubscribed is
  // read back from the Stream (a pub/sub key would only get sse-gap).
  configureKey(key, { replay: { maxEvents: 100 } });
  const t = fnTarget(key);
  await bridge.whenSubscribed(key);
  await s.stop();
  await eventually(() => bridge!.state === 'reconnecting', 'the bridge to notice', 15_000);
  for (let i = 1; i <= 8; i++) broadcast(key, 'n', `m${i}`); // returns at once each time
  expect(getRedisMetrics()).toMatchObject({ outboxDepth: 5, outboxOverflows: 3 });
  expect(t.got.map((m) => m.data)).toEqual(['m6', 'm7', 'm8']); // local-only, at once
  await s.restart();
  await eventually(() => t.got.length >= 8, 'the queued five', 15_000);
  await bridge.flushed();
  // What waited in the outbox arrives once, in order, with Stream ids.
  expect(t.got.map((m) => m.data)).toEqual(['m6', 'm7', 'm8', 'm1', 'm2', 'm3', 'm4', 'm5']);
  expect(t.got.slice(3).every((m) => /^\d+-\d+$/.test(String(m.id)))).toBe(true);
  expect(getRedisMetrics()).toMatchObject({ state: 'ready', outboxDepth: 0, messagesOut: 5, reconnects: 1 });
  const text = redisMetricsText();
  expect(promValue(text, 'sse_redis_outbox_overflows_total')).toBe(3);
  expect(promValue(text, 'sse_redis_state', { state: 'ready' })).toBe(1);
  expect(promValue(text, 'sse_redis_lag_ms_count')).toBe(5);
});
