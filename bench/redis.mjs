// Local broadcast against broadcast through Redis across two processes:
// added latency (p50/p99, publish to client), the ceiling in messages/s per
// key and over 8 keys, and server CPU (our processes + redis-server) per
// million deliveries. Servers are bench/servers/redis-node.cjs over dist/;
// clients are raw sockets in this process (a Node client; it is not the
// bottleneck at these client counts, see the CPU column); redis-server is
// Debian's, started here with AOF (everysec) in a temporary directory.
//
//   npx tsc -p tsconfig.json && node bench/redis.mjs [--clients 100] [--seconds 5] [--rate 200] [--out bench/results/redis.md]
//
// Every process started here is stopped here, by pid; every wait is bounded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const CLIENTS = Number(opt('clients', 100));
const SECONDS = Number(opt('seconds', 5));
const RATE = Number(opt('rate', 200));
const CEIL_CLIENTS = Number(opt('ceiling-clients', 10));
const OUT = path.resolve(root, opt('out', 'bench/results/redis.md'));
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bounded(p, what, ms = 60_000) {
  let t;
  return Promise.race([p, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const procs = new Set();
async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-bench-redis-'));
  const port = await freePort();
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--loglevel', 'warning'], { stdio: 'ignore' });
  procs.add(p);
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => (s.destroy(), r(String(d).startsWith('+PONG'))));
      s.on('error', () => r(false));
    });
    if (ok) return { p, port, dir, url: `redis://127.0.0.1:${port}` };
    await sleep(20);
  }
  throw new Error('redis-server did not start');
}

function procCpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime+stime, USER_HZ 100
}

async function startServer(redisUrl) {
  const p = spawn(process.execPath, [path.join(root, 'bench/servers/redis-node.cjs')], {
    env: { ...process.env, REDIS_URL: redisUrl ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  procs.add(p);
  const first = await bounded(new Promise((r) => p.once('message', r)), 'server listening');
  let rid = 0;
  const waiting = new Map();
  p.on('message', (m) => waiting.get(m.rid)?.(m));
  return {
    p,
    port: first.port,
    request: (msg, ms = 120_000) => {
      const id = ++rid;
      const done = new Promise((r) => waiting.set(id, r));
      p.send({ ...msg, rid: id });
      return bounded(done, msg.op, ms);
    },
    async stop() {
      await this.request({ op: 'close' }, 5000).catch(() => p.kill('SIGKILL'));
      procs.delete(p);
    },
  };
}

/** A raw SSE client: counts events and, when asked, records publish-to-receipt latency from data = send time. */
async function client(port, key, lat) {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => (s.once('connect', r), s.once('error', j)));
  s.write(`GET /events?key=${key} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
  const c = { s, events: 0, ready: false };
  let tail = '';
  s.setEncoding('utf8');
  s.on('data', (d) => {
    const t = now();
    const text = tail + d;
    let i = 0;
    for (;;) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      if (text.startsWith('data: ', i)) {
        c.events++;
        if (lat) lat.push(t - Number(text.slice(i + 6, nl)));
      } else if (text.startsWith(': ready', i)) c.ready = true;
      i = nl + 1;
    }
    tail = text.slice(i);
  });
  return c;
}

async function clients(server, n, keys, lat) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await client(server.port, keys[i % keys.length], lat));
  const deadline = Date.now() + 20_000;
  while (!out.every((c) => c.ready)) {
    if (Date.now() > deadline) throw new Error('clients not ready');
    await sleep(10);
  }
  return out;
}

const pct = (xs, p) => {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
};

async function waitCount(cs, total, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (cs.reduce((s, c) => s + c.events, 0) < total && Date.now() < deadline) await sleep(20);
}

async function latency(redisUrl) {
  const pub = await startServer(redisUrl);
  const sub = redisUrl ? await startServer(redisUrl) : pub;
  const lat = [];
  const cs = await clients(sub, CLIENTS, ['k0'], lat);
  const { sent } = await pub.request({ op: 'paced', keys: ['k0'], rate: RATE, seconds: SECONDS });
  await waitCount(cs, sent * CLIENTS);
  const got = cs.reduce((s, c) => s + c.events, 0);
  for (const c of cs) c.s.destroy();
  await pub.stop();
  if (sub !== pub) await sub.stop();
  return { p50: pct(lat, 50), p99: pct(lat, 99), delivered: got, expected: sent * CLIENTS };
}

async function ceiling(redisUrl, nKeys, redisPid) {
  const keys = Array.from({ length: nKeys }, (_, i) => `c${i}`);
  const a = await startServer(redisUrl);
  const b = redisUrl ? await startServer(redisUrl) : undefined;
  const servers = b ? [a, b] : [a];
  // Clients on every server, spread over the keys.
  const cs = [];
  for (const s of servers) cs.push(...(await clients(s, Math.max(CEIL_CLIENTS, nKeys), keys)));
  const cpu0 = await Promise.all(servers.map((s) => s.request({ op: 'cpu' })));
  const r0 = redisPid ? procCpuMs(redisPid) : 0;
  const t0 = now();
  // Every server publishes to every key (through Redis) / the one server (local).
  const sent = (await Promise.all(servers.map((s) => s.request({ op: 'pump', keys, seconds: SECONDS, window: 2000 })))).reduce((x, r) => x + r.sent, 0);
  const perClientKey = Math.max(CEIL_CLIENTS, nKeys) / nKeys; // clients per key per server
  const expected = sent * perClientKey * servers.length;
  await waitCount(cs, expected);
  const secs = (now() - t0) / 1000;
  const cpu1 = await Promise.all(servers.map((s) => s.request({ op: 'cpu' })));
  const cpuMs = cpu1.reduce((x, c, i) => x + (c.user - cpu0[i].user + c.system - cpu0[i].system) / 1000, 0);
  const redisMs = redisPid ? procCpuMs(redisPid) - r0 : 0;
  const delivered = cs.reduce((s, c) => s + c.events, 0);
  for (const c of cs) c.s.destroy();
  for (const s of servers) await s.stop();
  return {
    msgsPerSecTotal: sent / secs,
    msgsPerSecPerKey: sent / secs / nKeys,
    delivered,
    expected,
    cpuMsPerMillion: (cpuMs / delivered) * 1e6,
    redisCpuMsPerMillion: (redisMs / delivered) * 1e6,
  };
}

const fmt = (x, d = 2) => (x === undefined ? '-' : Number(x).toFixed(d));

async function main() {
  const redis = await startRedis();
  try {
    const res = {};
    res.latLocal = await latency(undefined);
    res.latRedis = await latency(redis.url);
    res.ceilLocal = await ceiling(undefined, 1);
    res.ceilRedis = await ceiling(redis.url, 1, redis.p.pid);
    res.ceil8Local = await ceiling(undefined, 8);
    res.ceil8Redis = await ceiling(redis.url, 8, redis.p.pid);
    const cpus = os.cpus();
    const md = [
      '# Broadcast through Redis (bench/redis.mjs)',
      '',
      `Run: \`node bench/redis.mjs --clients ${CLIENTS} --seconds ${SECONDS} --rate ${RATE} --ceiling-clients ${CEIL_CLIENTS}\` on ${new Date().toISOString().slice(0, 10)},`,
      `${cpus.length} x ${cpus[0]?.model.trim()}, Node ${process.version}, redis-server (Debian) with AOF everysec, all on loopback.`,
      'The machine is shared (2 cores, other engineers\' jobs running): figures are indicative, ratios from one run.',
      '',
      '## Latency, publish to client (paced, one key)',
      '',
      `${CLIENTS} clients, ${RATE} broadcasts/s for ${SECONDS} s. Local: publisher and clients in one process. Redis: publisher in process A, clients on process B.`,
      '',
      '| path | p50 ms | p99 ms | delivered / expected |',
      '|---|---:|---:|---:|',
      `| local broadcast | ${fmt(res.latLocal.p50)} | ${fmt(res.latLocal.p99)} | ${res.latLocal.delivered} / ${res.latLocal.expected} |`,
      `| through Redis, A -> B | ${fmt(res.latRedis.p50)} | ${fmt(res.latRedis.p99)} | ${res.latRedis.delivered} / ${res.latRedis.expected} |`,
      `| added by Redis | ${fmt(res.latRedis.p50 - res.latLocal.p50)} | ${fmt(res.latRedis.p99 - res.latLocal.p99)} | |`,
      '',
      '## Ceiling (publish as fast as the path takes it)',
      '',
      `Each server has ${CEIL_CLIENTS} clients (spread over the keys); through Redis both A and B publish to every key and both have clients. CPU: our server processes; Redis: redis-server.`,
      '',
      '| path | keys | messages/s total | messages/s per key | delivered / expected | server CPU ms per 1M deliveries | redis-server CPU ms per 1M deliveries |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...[
        ['local broadcast', 1, res.ceilLocal],
        ['through Redis (2 processes)', 1, res.ceilRedis],
        ['local broadcast', 8, res.ceil8Local],
        ['through Redis (2 processes)', 8, res.ceil8Redis],
      ].map(([n, k, r]) => `| ${n} | ${k} | ${fmt(r.msgsPerSecTotal, 0)} | ${fmt(r.msgsPerSecPerKey, 0)} | ${r.delivered} / ${r.expected} | ${fmt(r.cpuMsPerMillion, 0)} | ${r.redisCpuMsPerMillion ? fmt(r.redisCpuMsPerMillion, 0) : '-'} |`),
      '',
      'nginx + nchan with Redis storage: not run. Debian 12 has it (libnginx-mod-nchan 1.3.6); a side-by-side needs its own publisher/subscriber config and driver, left for later.',
      '',
    ].join('\n');
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, md);
    fs.writeFileSync(OUT.replace(/\.md$/, '.json'), JSON.stringify(res, null, 2) + '\n');
    console.log(md);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await sleep(200);
    fs.rmSync(redis.dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  process.exit(1);
});
