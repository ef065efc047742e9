// The connection engine against a raw node:http res.write server, same run,
// each server in its own process pinned to CPU 0 (the client on CPU 1).
// Server CPU (from /proc/<pid>/stat) per million 32-byte events, and RSS per
// idle connection.  node bench/node/engine.bench.mjs [--events 200000] [--idle 10000]
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const EVENTS = arg('events', 200000);
const IDLE = arg('idle', 10000);
const TICKS = os.constants.signals ? 100 : 100; // USER_HZ on Linux
const modes = (process.argv.find((a) => a.startsWith('--modes=')) ?? '--modes=raw,fallback,adopted').slice(8).split(',');

function cpuOf(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(parts[11]) + Number(parts[12])) / TICKS; // utime + stime, seconds
}
function rssOf(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)[1]) * 1024;
}

async function startServer(mode) {
  const child = fork(path.join(here, 'engine-server.mjs'), [mode], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => child.once('message', (m) => resolve(m.port)));
  try {
    fs.writeFileSync(`/proc/${child.pid}/comm`, `srv-${mode}`.slice(0, 15));
  } catch {}
  await import('node:child_process').then(({ execFileSync }) => execFileSync('taskset', ['-pc', '0', String(child.pid)], { stdio: 'ignore' }));
  return { child, port, mode };
}

// Reads one SSE response to the end and counts events (blank-line ends).
function consume(port, pathname) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let events = 0;
    let headDone = false;
    let prevNl = false;
    sock.on('connect', () => sock.write(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`));
    sock.on('data', (buf) => {
      let i = 0;
      if (!headDone) {
        const h = buf.indexOf('\r\n\r\n');
        if (h < 0) return;
        headDone = true;
        i = h + 4;
      }
      // Count "\n\n" pairs across chunk edges.
      for (;;) {
        const j = buf.indexOf(10, i);
        if (j < 0) break;
        if (prevNl && j === i) events++;
        else if (j + 1 < buf.length && buf[j + 1] === 10) {
          events++;
          i = j + 2;
          prevNl = false;
          continue;
        }
        prevNl = j === buf.length - 1;
        i = j + 1;
      }
      if (i < buf.length) prevNl = false;
    });
    sock.on('end', () => resolve(events));
    sock.on('error', reject);
  });
}

async function stream(server, how) {
  await consume(server.port, `/stream?n=1000&how=${how}`); // warm up
  const c0 = cpuOf(server.child.pid);
  const got = await consume(server.port, `/stream?n=${EVENTS}&how=${how}`);
  const c1 = cpuOf(server.child.pid);
  if (got < EVENTS) throw new Error(`${how}: got ${got} of ${EVENTS} events`);
  return ((c1 - c0) * 1e6) / EVENTS;
}

// RSS after a GC with 0, IDLE/2 and IDLE idle clients. `avg` charges the
// fixed costs of a connection storm (V8's young generation grows to its
// maximum, malloc arenas) to the connections; `marginal` is the slope between
// the last two points: what one more idle connection costs.
async function idle(server) {
  const socks = [];
  const collect = () => new Promise((r) => { server.child.once('message', r); server.child.send('gc'); });
  const openClients = async (n) => {
    const start = socks.length;
    for (let i = 0; i < n; i++) {
      const k = start + i;
      const s = net.connect({ port: server.port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (k % 50)}` });
      s.on('error', () => {});
      s.on('connect', () => s.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n'));
      socks.push(s);
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
    }
    // Wait until every client saw its head.
    await Promise.all(socks.map((s) => new Promise((r) => (s.bytesRead > 0 ? r() : s.once('data', r)))));
    await new Promise((r) => setTimeout(r, 300));
    const mem = (await collect()).mem;
    return { rss: rssOf(server.child.pid), heap: mem.heapUsed, heapTotal: mem.heapTotal };
  };
  await collect();
  const m0 = { rss: rssOf(server.child.pid) };
  const half = Math.floor(IDLE / 2);
  const m1 = await openClients(half);
  const m2 = await openClients(IDLE - half);
  if (process.env.SSE_BENCH_VERBOSE) console.error(`  ${server.mode}: heapUsed slope ${((m2.heap - m1.heap) / (IDLE - half)).toFixed(0)} B/conn, heapTotal slope ${((m2.heapTotal - m1.heapTotal) / (IDLE - half)).toFixed(0)} B/conn`);
  for (const s of socks) s.destroy();
  return { avg: (m2.rss - m0.rss) / IDLE, marginal: (m2.rss - m1.rss) / (IDLE - half) };
}

const results = {};
for (const mode of modes) {
  const server = await startServer(mode);
  try {
    results[mode] = {
      turn: await stream(server, 'turn'),
      burst: await stream(server, 'burst'),
      ...(IDLE > 0 ? await idle(server) : { avg: NaN, marginal: NaN }),
    };
  } finally {
    server.child.kill();
  }
}
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
console.log(`| ${EVENTS} x 32 B events, 1 connection, server on 1 core | ${modes.join(' | ')} | adopted / raw |`);
console.log(`|---|${modes.map(() => '---|').join('')}---|`);
for (const [k, label, unit] of [
  ['turn', 'one send per loop turn', 's CPU / M events'],
  ['burst', 'burst in one turn', 's CPU / M events'],
]) {
  const r = results.raw?.[k];
  const a = results.adopted?.[k];
  console.log(`| ${label} (${unit}) | ${modes.map((m) => fmt(results[m][k])).join(' | ')} | ${r && a ? (a / r).toFixed(2) + 'x' : ''} |`);
}
if (IDLE > 0) {
  for (const [k, label] of [['avg', `idle RSS per connection, ${IDLE} clients, average (KB)`], ['marginal', `idle RSS per connection, ${IDLE} clients, marginal (KB)`]]) {
    const r = results.raw?.[k];
    const a = results.adopted?.[k];
    console.log(`| ${label} | ${modes.map((m) => fmt(results[m][k] / 1024)).join(' | ')} | ${r && a ? (a / r).toFixed(2) + 'x' : ''} |`);
  }
}
