// The server of the soak (bench/soak.mjs): sse-native on node:http, every
// stream a member of a hub key, driven by a paced publisher.
//
//   GET /sub?role=steady|churn|slow[&adopt=0]   an SSE stream; steady and churn
//        streams join key 'all', slow ones key 'bulk' (and 'all'); adopt=0
//        puts the stream on the res.write sink (the fallback path)
//   GET /publish?n=N&rate=R&bytes=B&per=P&bulk=K   N ticks at R ticks/s; each tick
//        broadcasts one B-byte event to 'all'; every P-th tick also sends one
//        event to each steady stream by stream.send() (a per-stream send) and
//        one K-byte event to 'bulk' (what fills the slow readers' queues)
//   GET /stats[?gc=1]   { pid, rss, heapUsed, heapTotal, external, arrayBuffers, queued, loopDelayMaxMs,
//        connections (per role), closes (per role and reason), sentPerStream, ticks, publishing }
//
// Payload: `t=<process.hrtime.bigint()>` padded with dots (sse_load reads the
// send time from it, see bench/servers/common.mjs).
//   node --expose-gc bench/servers/soak-server.mjs <port>
import http from 'node:http';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { payload } from './common.mjs';

const lib = createRequire(import.meta.url)('../../dist/index.js');

// Defaults except no heartbeat (the per-second events keep streams busy).
const OPTS = { heartbeatMs: 0 };
const roles = { steady: new Set(), churn: new Set(), slow: new Set() };
// Closes per role and reason (closeReason.code; 'closed' for our own close).
const closes = { steady: {}, churn: {}, slow: {} };
let sentPerStream = 0;
let ticks = 0;
let publishing = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function subscribe(req, res, q) {
  const role = roles[q.get('role')] ? q.get('role') : 'churn';
  const s = lib.createSSEStream(req, res, { ...OPTS, adopt: q.get('adopt') !== '0' });
  if (s.closed) return;
  roles[role].add(s);
  lib.registerConnection('all', s);
  if (role === 'slow') lib.registerConnection('bulk', s);
  s.on('close', () => {
    roles[role].delete(s);
    const why = s.closeReason?.code ?? 'closed';
    closes[role][why] = (closes[role][why] ?? 0) + 1;
  });
}

function publish(q) {
  const n = Math.max(0, Number(q.get('n') ?? 1));
  const rate = Math.max(1, Number(q.get('rate') ?? 100));
  const bytes = Math.max(1, Number(q.get('bytes') ?? 64));
  const per = Math.max(1, Number(q.get('per') ?? 10));
  const bulk = Math.max(0, Number(q.get('bulk') ?? 16384));
  let sent = 0;
  publishing++;
  const one = () => {
    lib.broadcast('all', { data: payload(bytes) });
    if (sent % per === 0) {
      for (const s of roles.steady) {
        s.send({ data: payload(bytes) });
        sentPerStream++;
      }
      if (bulk > 0) lib.broadcast('bulk', { event: 'bulk', data: payload(bulk) });
    }
    sent++;
    ticks++;
  };
  // Paced: each timer sends what is due, then sleeps until the next is due.
  const t0 = process.hrtime.bigint();
  const tick = () => {
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const due = Math.min(n, Math.floor((elapsedMs / 1000) * rate) + 1);
    while (sent < due) one();
    if (sent >= n) return void publishing--;
    setTimeout(tick, Math.max(0, (sent / rate) * 1000 - elapsedMs));
  };
  tick();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/sub') return subscribe(req, res, url.searchParams);
  if (url.pathname === '/publish') {
    publish(url.searchParams);
    res.writeHead(202, { 'content-type': 'application/json' });
    return void res.end('{"ok":true}');
  }
  if (url.pathname === '/stats') {
    if (url.searchParams.get('gc') === '1' && typeof globalThis.gc === 'function') globalThis.gc();
    const m = process.memoryUsage();
    const delayMax = loopDelay.max;
    loopDelay.reset();
    let queued = 0; // bytes waiting in the streams' queues (shared frames counted per stream)
    for (const set of Object.values(roles)) for (const s of set) queued += s.bufferedAmount;
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(
      JSON.stringify({
        pid: process.pid,
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        queued,
        loopDelayMaxMs: delayMax / 1e6, // since the last /stats
        connections: roles.steady.size + roles.churn.size + roles.slow.size,
        steady: roles.steady.size,
        churn: roles.churn.size,
        slow: roles.slow.size,
        hub: lib.getConnectionCount(),
        closes,
        sentPerStream,
        ticks,
        publishing,
      }),
    );
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.headersTimeout = 0;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', 4096, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
