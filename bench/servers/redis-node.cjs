// A server under test for bench/redis.mjs: SSE on 127.0.0.1:0 from dist/,
// bridged to Redis unless REDIS_URL is empty (then local broadcast only).
// Driven over IPC by { rid, op }:
//   paced  { keys, rate, seconds }  broadcast data=<send time, ms> at `rate`/s per key
//   pump   { keys, seconds, window } as fast as possible, <= `window` waiting for Redis
//   cpu    -> { user, system } (microseconds, process.cpuUsage)
//   metrics, close
'use strict';
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const sse = require('../../dist');
const { connectRedis, getRedisMetrics } = require('../../dist/redis');

const now = () => performance.timeOrigin + performance.now();
let bridge;
const server = http.createServer((req, res) => {
  const key = new URL(req.url, 'http://x').searchParams.get('key') || 'k0';
  const s = sse.createSSEStream(req, res);
  sse.registerConnection(key, s);
  const ready = bridge ? bridge.whenSubscribed(key) : Promise.resolve();
  ready.then(() => s.comment('ready'));
});

function paced({ keys, rate, seconds }) {
  return new Promise((resolve) => {
    const total = Math.round(rate * seconds);
    let sent = 0;
    const t = setInterval(() => {
      // Up to 4 per tick keeps the timer's 1 ms floor from capping the rate.
      const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate));
      for (; sent < due; sent++) for (const k of keys) sse.broadcast(k, 'm', String(now()));
      if (sent >= total) {
        clearInterval(t);
        resolve({ sent: sent * keys.length });
      }
    }, 1);
    const start = now();
  });
}

async function pump({ keys, seconds, window }) {
  const end = now() + seconds * 1000;
  let sent = 0;
  while (now() < end) {
    for (let i = 0; i < 50; i++) for (const k of keys) sse.broadcast(k, 'm', String(now()));
    sent += 50 * keys.length;
    if (bridge) {
      if (getRedisMetrics().outboxDepth > window) await bridge.flushed();
    } else {
      await new Promise((r) => setImmediate(r));
    }
  }
  if (bridge) await bridge.flushed();
  return { sent };
}

process.on('message', async (m) => {
  const reply = (o) => process.send({ rid: m.rid, ...o });
  if (m.op === 'paced') reply(await paced(m));
  else if (m.op === 'pump') reply(await pump(m));
  else if (m.op === 'cpu') reply(process.cpuUsage());
  else if (m.op === 'metrics') reply({ redis: getRedisMetrics(), hub: sse.getMetrics() });
  else if (m.op === 'close') {
    if (bridge) await bridge.close();
    sse.closeAll();
    server.close();
    reply({});
    setTimeout(() => process.exit(0), 20);
  }
});

(async () => {
  if (process.env.REDIS_URL) bridge = await connectRedis({ url: process.env.REDIS_URL, maxOutbox: 100000 });
  server.listen(0, '127.0.0.1', () => process.send({ op: 'listening', port: server.address().port }));
})();
