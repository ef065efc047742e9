// One chat room served by N worker processes (node:cluster) sharing one port,
// joined by one Redis: a message posted to any worker reaches the clients of
// every worker once, and a client that reconnects to another worker resumes
// from the Redis Stream with Last-Event-ID.
//   redis-server &   npm run build
//   REDIS_URL=redis://127.0.0.1:6379 WORKERS=4 node examples/cluster/server.js
//   curl -N http://127.0.0.1:3005/events          (several of them)
//   curl -X POST 'http://127.0.0.1:3005/say?text=hello'
//   curl http://127.0.0.1:3005/metrics            (the worker that answers)
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');

const PORT = Number(process.env.PORT ?? 3005);
const HOST = process.env.HOST || '127.0.0.1';
const WORKERS = Number(process.env.WORKERS || Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (!stopping) console.error(`worker ${worker.id} exited (${code}); not restarted in this example`);
    if (Object.keys(cluster.workers).length === 0) process.exit(0);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  worker().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}

async function worker() {
  const { createSSEStream, broadcast, configureKey, metricsText, closeAll } = require('../../dist');
  const { connectRedis, redisMetricsText } = require('../../dist/redis');
  const me = cluster.worker.id;

  // Same settings in every worker: the room keeps its last 1000 messages in
  // a Redis Stream, so ids are the same everywhere and resumes work anywhere.
  configureKey('room', { replay: { maxEvents: 1000 } });
  const bridge = await connectRedis({ url: REDIS_URL, prefix: 'example:' });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/events') {
      const sse = createSSEStream(req, res, { key: 'room', resume: true, retry: 2000 });
      sse.comment(`worker ${me}`);
    } else if (url.pathname === '/say' && req.method === 'POST') {
      const text = url.searchParams.get('text') || '';
      broadcast('room', 'message', { text, worker: me });
      // Answer once Redis has it: a message posted after this answer (to any
      // worker) is then ordered after this one.
      bridge.flushed().then(() => res.writeHead(202).end(`posted by worker ${me}\n`));
    } else if (url.pathname === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(metricsText() + redisMetricsText());
    } else {
      res.writeHead(404).end('not found\n');
    }
  });
  // Listen to the room before taking clients, so none misses the first message.
  await bridge.whenSubscribed('room');
  server.listen(PORT, HOST, () => {
    console.log(`worker ${me} listening on http://${HOST}:${server.address().port}`);
  });

  const shutdown = async () => {
    closeAll({ event: 'bye', data: { worker: me } });
    server.close();
    await bridge.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', () => {}); // the primary forwards it as SIGTERM
}
