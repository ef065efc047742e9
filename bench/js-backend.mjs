// CPU per delivery of the TypeScript backend against a hand-written
// res.write loop, in one process and one run (issue 12: the JS backend
// should cost no more than the loop it replaces). The server process runs
// each case in turn; a child process holds the clients and says when every
// event has arrived. Server CPU (process.cpuUsage, user + system) from the
// first send to the last byte received, divided by events x clients.
//
//   node bench/js-backend.mjs [--clients 200] [--events 2000] [--reps 3] [--per-turn 20]
//
// Needs dist/ (npm run build:ts). Prints one table; asserts nothing.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.SSE_NATIVE = 'js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sse = (await import(path.join(root, 'dist', 'index.js'))).default;
if (sse.backend !== 'js') throw new Error(`expected the js backend, got ${sse.backend}`);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const CLIENTS = opt('clients', 200);
const EVENTS = opt('events', 2000);
const REPS = opt('reps', 3);
const PER_TURN = opt('per-turn', 20); // events sent per loop turn (20: a busy producer; 1: one event per turn)
const PAYLOAD = 'x'.repeat(64);

// The clients: N connections to `path`, each counting blank-line event ends;
// prints "ready" once all heads arrived and "done" once each saw `events`.
const clientScript = `
const http = require('node:http');
const [port, path, n, events] = process.argv.slice(1);
let ready = 0, done = 0;
for (let i = 0; i < +n; i++) {
  http.get({ host: '127.0.0.1', port: +port, path, agent: false }, (res) => {
    let seen = 0, tail = '';
    if (++ready === +n) console.log('ready');
    res.setEncoding('latin1');
    res.on('data', (chunk) => {
      const s = tail + chunk;
      let at = -1;
      while ((at = s.indexOf('\\n\\n', at + 1)) !== -1) seen++;
      tail = s.slice(-1);
      if (seen === +events && ++done === +n) console.log('done');
    });
  });
}
`;

function startClients(port, urlPath) {
  const child = spawn(process.execPath, ['-e', clientScript, String(port), urlPath, String(CLIENTS), String(EVENTS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    for (const l of d.split('\n').filter(Boolean)) {
      lines.push(l);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const waitFor = (word) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`clients: no "${word}" within 120 s`)), 120_000);
      const check = () => (lines.includes(word) ? (clearTimeout(t), resolve()) : waiters.push(check));
      check();
    });
  return { child, waitFor };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const frame = (i) => `data: {"i":${i},"p":"${PAYLOAD}"}\n\n`;

// Each case: how the server answers a client, and how it sends event i to all.
const cases = {
  'res.write loop, one frame per event': {
    open(req, res, conns) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      conns.push(res);
    },
    send(i, conns) {
      const f = frame(i);
      for (const res of conns) res.write(f);
    },
  },
  'js backend: broadcast(key, ...)': {
    open(req, res, conns) {
      conns.push(sse.createSSEStream(req, res, { key: 'bench', heartbeatMs: 0, highWaterMark: 1 << 24, maxBuffered: 1 << 26 }));
    },
    send(i) {
      sse.broadcast('bench', { data: { i, p: PAYLOAD } });
    },
  },
  'res.write loop, encoded per client': {
    open(req, res, conns) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      conns.push(res);
    },
    send(i, conns) {
      for (const res of conns) res.write(`data: ${JSON.stringify({ i, p: PAYLOAD })}\n\n`);
    },
  },
  'js backend: stream.send() per client': {
    open(req, res, conns) {
      conns.push(sse.createSSEStream(req, res, { heartbeatMs: 0, highWaterMark: 1 << 24, maxBuffered: 1 << 26 }));
    },
    send(i, conns) {
      for (const s of conns) s.send({ data: { i, p: PAYLOAD } });
    },
  },
};

async function runCase(name) {
  const c = cases[name];
  const conns = [];
  const server = http.createServer((req, res) => c.open(req, res, conns));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clients = startClients(server.address().port, '/');
  await clients.waitFor('ready');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const done = clients.waitFor('done');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) {
    c.send(i, conns);
    if (i % PER_TURN === PER_TURN - 1) await turn();
  }
  await done;
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  clients.child.kill();
  sse.closeAll(undefined, { timeoutMs: 1000 });
  for (const c of conns) if (typeof c.destroy === 'function') c.destroy();
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
  return { usPerDelivery: (cpu.user + cpu.system) / (EVENTS * CLIENTS), wallMs };
}

const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < REPS; r++) {
  for (const name of Object.keys(cases)) results[name].push(await runCase(name));
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (name) => median(results[name].map((x) => x.usPerDelivery));
console.log(`node ${process.version}, ${CLIENTS} clients x ${EVENTS} events, ${PER_TURN} per loop turn, median of ${REPS}; server CPU per delivery\n`);
console.log('| case | µs CPU / delivery | vs its res.write loop |');
console.log('|---|---|---|');
const pairs = [
  ['res.write loop, one frame per event', 'js backend: broadcast(key, ...)'],
  ['res.write loop, encoded per client', 'js backend: stream.send() per client'],
];
for (const [base, js] of pairs) {
  console.log(`| ${base} | ${row(base).toFixed(3)} | 1.00 |`);
  console.log(`| ${js} | ${row(js).toFixed(3)} | ${(row(js) / row(base)).toFixed(2)} |`);
}
process.exit(0);
