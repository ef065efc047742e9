// One process of a multi-process test: an SSE server on 127.0.0.1:0 bridged
// to Redis, run from dist/ as an app would. The parent drives it over IPC:
// { rid, op: 'broadcast' | 'metrics' | 'count' | 'close', ... } -> { rid, ... }.
//   GET /events?key=K[&adopt=0]  joins K with resume (Last-Event-ID or ?lastEventId=),
//   then sends the comment "subscribed" once this process listens to K on Redis.
// Env: REDIS_URL, SSE_PREFIX, SSE_KEYS (JSON { key: { maxEvents, maxAgeMs } }).
'use strict';
const http = require('node:http');
const sse = require('../../dist');
const { connectRedis, getRedisMetrics } = require('../../dist/redis');

const replay = JSON.parse(process.env.SSE_KEYS || '{}');
for (const [key, r] of Object.entries(replay)) sse.configureKey(key, { replay: r });

let bridge;
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname !== '/events') {
    res.writeHead(404).end();
    return;
  }
  const key = u.searchParams.get('key') || 'room';
  const stream = sse.createSSEStream(req, res, { adopt: u.searchParams.get('adopt') !== '0' });
  sse.registerConnection(key, stream, { resume: true });
  bridge.whenSubscribed(key).then(() => stream.comment('subscribed'));
});

function broadcastMany({ key, count, prefix = 'e', event = 'tick', intervalMs = 0, start = 1 }) {
  return new Promise((resolve) => {
    let i = start;
    const end = start + count;
    if (intervalMs === 0) {
      for (; i < end; i++) sse.broadcast(key, event, `${prefix}${i}`);
      resolve();
      return;
    }
    const t = setInterval(() => {
      sse.broadcast(key, event, `${prefix}${i}`);
      if (++i >= end) {
        clearInterval(t);
        resolve();
      }
    }, intervalMs);
  });
}

process.on('message', async (m) => {
  const reply = (o) => process.send({ rid: m.rid, ...o });
  if (m.op === 'broadcast') {
    await broadcastMany(m);
    reply({ ok: true });
  } else if (m.op === 'metrics') {
    reply({ redis: getRedisMetrics(), hub: sse.getMetrics(), state: bridge.state });
  } else if (m.op === 'count') {
    reply({ count: sse.getConnectionCount(m.key) });
  } else if (m.op === 'close') {
    await bridge.close();
    sse.closeAll();
    server.close();
    reply({ ok: true });
    setTimeout(() => process.exit(0), 50);
  }
});

(async () => {
  bridge = await connectRedis({ url: process.env.REDIS_URL, prefix: process.env.SSE_PREFIX || 'sse:' });
  server.listen(0, '127.0.0.1', () => process.send({ op: 'listening', port: server.address().port }));
})().catch((err) => {
  process.send({ op: 'failed', error: String(err && err.stack) });
  process.exit(1);
});
