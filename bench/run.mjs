// The whole-server benchmark suite: each server under test (bench/servers/)
// in its own process pinned to CPU 0, the native load generator
// (bench/load/sse_load) pinned to CPU 1, every scenario run a few times,
// medians reported with ratios against the anchors of the same run.
//
//   node bench/run.mjs                 quick suite (a few minutes)
//   node bench/run.mjs --full          the whole matrix (under an hour)
//   node bench/run.mjs --soak-minutes 60 [--soak-subs 1000] [--soak-rate 100] [--soak-interval-s 10]
//        [--soak-churn 100] [--soak-slow 20]   (builds, then bench/soak.mjs: exit 1 on a lost
//        event or growth)
//   options: --servers a,b  --scenarios x,y  --reps N  --no-build  --out DIR
//            --node-flags "--max-semi-space-size=1" (every Node server alike)
//            --render (rewrite latest.md/.svg from latest.json, no runs)
//            --isolate (server and load generator under SCHED_FIFO, chrt -f 20:
//            on a shared machine the neighbours no longer preempt them; a
//            Node server's helper threads go back to SCHED_OTHER on CPU 1;
//            root only; see bench/README.md "Latency tail")
//
// Writes bench/results/latest.{md,svg,json} (soak: <out>/soak.{md,json,csv,svg}).
// Every process started here is stopped here, by pid; every wait is bounded.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, lines, startChild, stop } from './children.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};

const FULL = flag('full');
const MODE = FULL ? 'full' : 'quick';
const OUT = path.resolve(root, opt('out', 'bench/results'));
const GEN = path.join(root, 'out/bench/bench/load/sse_load');
const FLOOR = path.join(root, 'out/bench/bench/load/sse_floor');
// Node scripts, except c-floor: the C reference (bench/load/sse_floor.cc).
const SERVERS = {
  'sse-native-adopted': 'bench/servers/sse-native-adopted.mjs',
  'sse-native-fallback': 'bench/servers/sse-native-fallback.mjs',
  // listenSSE(): the core accepts connections itself (no Node HTTP objects).
  'sse-native-accept': 'bench/servers/sse-native-accept.mjs',
  'sse-native-accept-stream': 'bench/servers/sse-native-accept-stream.mjs',
  raw: 'bench/servers/raw.mjs',
  'better-sse': 'bench/servers/better-sse.mjs',
  // nginx + nchan (Debian's nginx-light + libnginx-mod-nchan): the script
  // runs nginx pinned to CPU 0 and drives its publisher from CPU 1.
  nchan: 'bench/servers/nchan.mjs',
  'c-floor': FLOOR,
  // The adopted server with the flush's io_uring forced on or off
  // (SSE_NATIVE_IO_URING, native/core/io/send_ring.h), for both in one run.
  'adopted-uring': 'bench/servers/sse-native-adopted.mjs',
  'adopted-writev': 'bench/servers/sse-native-adopted.mjs',
};
// Environment of a server id, put before its command.
const SERVER_ENV = { 'adopted-uring': ['SSE_NATIVE_IO_URING=1'], 'adopted-writev': ['SSE_NATIVE_IO_URING=0'] };
// --baseline DIR: another checkout's servers in the same run (before/after
// figures of a change: `git worktree add DIR <commit> && (cd DIR && npm ci)`).
const BASELINE = opt('baseline', null);
// --node-flags "...": extra V8/Node flags for every Node server under test
// (all alike, so the comparison stays fair), e.g. --max-semi-space-size=1 to
// see idle memory without V8's young generation grown by the connection storm.
const NODE_FLAGS = (opt('node-flags', '') ?? '').split(' ').filter(Boolean);
if (BASELINE) {
  SERVERS['before-adopted'] = path.join(path.resolve(BASELINE), 'bench/servers/sse-native-adopted.mjs');
  SERVERS['before-fallback'] = path.join(path.resolve(BASELINE), 'bench/servers/sse-native-fallback.mjs');
}
const ANCHORS = ['raw', 'better-sse', 'nchan', 'c-floor'];

// Scenario matrix. `reps` may be overridden with --reps.
const QUICK = [
  { id: 'fanout-turn-1k', kind: 'fanout', subs: 1000, n: 400, bytes: 64, mode: 'turn', reps: 3 },
  { id: 'fanout-burst-1k', kind: 'fanout', subs: 1000, n: 400, bytes: 64, mode: 'burst', reps: 3 },
  { id: 'latency-100', kind: 'latency', subs: 100, rate: 100, secs: 3, bytes: 64, reps: 3 },
  { id: 'latency-1k', kind: 'latency', subs: 1000, rate: 100, secs: 3, bytes: 64, reps: 3 },
  { id: 'single-stream', kind: 'single', subs: 1, n: 200000, bytes: 32, per: 1000, reps: 3 },
  { id: 'idle-10k', kind: 'idle', subs: 10000, reps: 1 },
  { id: 'churn', kind: 'churn', subs: 200, total: 5000, reps: 1 },
];
const FULL_MATRIX = [
  { id: 'fanout-turn-1k', kind: 'fanout', subs: 1000, n: 2000, bytes: 64, mode: 'turn', reps: 3 },
  { id: 'fanout-burst-1k', kind: 'fanout', subs: 1000, n: 2000, bytes: 64, mode: 'burst', reps: 3 },
  { id: 'fanout-turn-10k', kind: 'fanout', subs: 10000, n: 200, bytes: 64, mode: 'turn', reps: 2 },
  { id: 'fanout-burst-10k', kind: 'fanout', subs: 10000, n: 200, bytes: 64, mode: 'burst', reps: 2 },
  { id: 'latency-100', kind: 'latency', subs: 100, rate: 100, secs: 10, bytes: 64, reps: 3 },
  { id: 'latency-1k', kind: 'latency', subs: 1000, rate: 100, secs: 10, bytes: 64, reps: 3 },
  { id: 'single-stream', kind: 'single', subs: 1, n: 1000000, bytes: 32, per: 1000, reps: 3 },
  { id: 'idle-10k', kind: 'idle', subs: 10000, reps: 2 },
  { id: 'idle-19k', kind: 'idle', subs: 19000, reps: 2 },
  { id: 'churn', kind: 'churn', subs: 500, total: 20000, reps: 1 },
];

// What each scenario reports; lower: smaller is better.
const METRICS = {
  fanout: [
    ['cpu_s_per_M', 'server CPU s / M deliveries', true],
    ['user_s_per_M', 'of which user', true],
    ['sys_s_per_M', 'of which kernel', true],
    ['deliveries_per_s', 'deliveries/s', false],
    ['p99_ms', 'p99 latency ms', true],
    ['rss_mb', 'RSS after, MB', true],
    ['wait_pct', 'noise: % of the run the server main thread waited for CPU 0', true],
  ],
  latency: [
    ['p50_ms', 'p50 ms', true],
    ['p99_ms', 'p99 ms', true],
    ['max_ms', 'max ms', true],
    ['cpu_s_per_M', 'server CPU s / M deliveries', true],
    ['wait_pct', 'noise: % of the run the server main thread waited for CPU 0', true],
  ],
  single: [
    ['events_per_s', 'events/s received', false],
    ['cpu_s_per_M', 'server CPU s / M events', true],
    ['wait_pct', 'noise: % of the run the server main thread waited for CPU 0', true],
  ],
  idle: [
    ['kb_per_conn', 'RSS KB / connection', true],
    ['kb_marginal', 'RSS KB / connection, second half', true],
    ['kernel_kb_per_conn', 'kernel slab KB / connection (both loopback ends, machine-wide)', true],
    ['connect_per_s', 'connections/s (setup)', false],
  ],
  churn: [
    ['connect_per_s', 'connect+close/s', false],
    ['fd_delta', 'fds after - before (2nd storm)', true],
    ['rss_delta_mb', 'RSS after - before (2nd storm), MB', true],
  ],
};

function killAll() {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {}
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[bench]', ...a);

// Runs `cmd` under bash with the open-file limit raised and pinned to `cpu`
// (exec keeps the pid, so the pid is the program's own).
const ISOLATE = flag('isolate');
function startPinned(cpu, cmd, args, env = []) {
  const withEnv = env.length ? `env ${env.join(' ')} ` : '';
  return startChild(root, cmd, args, `${ISOLATE ? 'chrt -f 20 ' : ''}taskset -c ${cpu} ${withEnv}`);
}



async function startServer(name) {
  const child =
    name === 'c-floor'
      ? startPinned(0, FLOOR, ['0'])
      : startPinned(0, process.execPath, ['--expose-gc', ...NODE_FLAGS, SERVERS[name], '0'], SERVER_ENV[name]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name}: no LISTENING in 10 s: ${stderr}`)), 10000);
    lines(child.stdout, (l) => {
      const m = /^LISTENING (\d+)/.exec(l);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.exited.then(() => reject(new Error(`${name} exited: ${stderr}`)));
  });
  if (ISOLATE && SERVERS[name]?.endsWith('.mjs') && name !== 'nchan') releaseHelpers(child.pid);
  return { name, child, port, stderr: () => stderr };
}

// --isolate: a Node server's helper threads (V8's platform workers, which
// sweep and compile concurrently) go back to the normal scheduler on CPU 1.
// Left under SCHED_FIFO on the main thread's CPU they never run while it is
// runnable, and the main thread spins re-posting cppgc's incremental-sweep
// task until the kernel's RT throttling parks it (bench/README.md, "Latency
// tail"). Threads started later (libuv's pool, on first use) stay FIFO on CPU 0.
function releaseHelpers(pid) {
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`).filter((t) => Number(t) !== pid);
  } catch {}
  for (const t of tids) {
    try {
      execFileSync('chrt', ['-o', '-p', '0', t], { stdio: 'ignore' });
      execFileSync('taskset', ['-p', '-c', '1', t], { stdio: 'ignore' });
    } catch {}
  }
}

async function http(srv, pathname, timeoutMs = 10000) {
  const r = await fetch(`http://127.0.0.1:${srv.port}${pathname}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  return text ? JSON.parse(text) : {};
}
const stats = (srv, gc = false) => http(srv, gc ? '/stats?gc=1' : '/stats');

// Nanoseconds the server's main thread spent runnable but waiting for a CPU:
// the sign that something else on this shared machine took CPU 0. (Only the
// main thread: Node's helper threads, pinned to CPU 0 too, wait for it.)
function runqWaitNs(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return NaN;
  }
}
// Percent of the measured window the server's main thread waited for CPU 0.
function waitPct(pid, w0, t0) {
  return ((runqWaitNs(pid) - w0) / 1e6 / Math.max(1, Date.now() - t0)) * 100;
}

// Bytes in the kernel's slab caches (all of the machine: other processes
// add noise). /proc/slabinfo needs root; NaN without it.
function slabBytes() {
  try {
    let total = 0;
    for (const line of fs.readFileSync('/proc/slabinfo', 'utf8').split('\n').slice(2)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3) total += Number(f[1]) * Number(f[3]);
    }
    return total;
  } catch {
    return NaN;
  }
}

function fdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

// Starts the load generator; resolves `ready` at its READY line, `result`
// with its final JSON line (intervals go to onInterval).
function startGen(args, onInterval) {
  const child = startPinned(1, GEN, args);
  let readyResolve;
  const ready = new Promise((r) => (readyResolve = r));
  let final = null;
  let stderr = '';
  lines(child.stdout, (l) => {
    if (!l.startsWith('{')) return;
    const j = JSON.parse(l);
    if (j.kind === 'final') final = j;
    else onInterval?.(j);
  });
  lines(child.stderr, (l) => {
    stderr += l + '\n';
    if (l.startsWith('READY')) readyResolve(l);
  });
  const result = child.exited.then(({ code }) => {
    readyResolve(null);
    if (!final) throw new Error(`sse_load exited ${code} without a result: ${stderr}`);
    return final;
  });
  result.catch(() => {}); // awaited later; a failure is reported there
  return { child, ready, result };
}

async function waitConnections(srv, n, ms = 15000) {
  const end = Date.now() + ms;
  let s;
  do {
    s = await stats(srv);
    if (s.connections >= n) return s;
    await sleep(50);
  } while (Date.now() < end);
  return s;
}

async function withTimeout(p, ms, onTimeout) {
  let t;
  const timer = new Promise((r) => (t = setTimeout(() => r('timeout'), ms)));
  const v = await Promise.race([p, timer]);
  clearTimeout(t);
  if (v === 'timeout') {
    await onTimeout();
    return p;
  }
  return v;
}

// ---- scenarios: each takes a fresh server and returns { metrics, notes }.

async function fanout(srv, sc) {
  const n = sc.n;
  const base = ['--port', srv.port, '--path', '/sub', '--connections', sc.subs, '--until-events', n, '--sources', 4];
  const gen = startGen([...base, '--duration', 600]);
  await withTimeout(gen.ready, 60000, () => stop(gen.child));
  await waitConnections(srv, sc.subs);
  const s0 = await stats(srv);
  const w0 = runqWaitNs(s0.pid);
  const t0 = Date.now();
  const q = sc.kind === 'single' ? `n=${n}&bytes=${sc.bytes}&mode=turn&per=${sc.per}` : `n=${n}&bytes=${sc.bytes}&mode=${sc.mode}`;
  await http(srv, `/publish?${q}`);
  const budget = sc.kind === 'single' ? 120000 : 240000;
  const r = await withTimeout(gen.result, budget, () => stop(gen.child));
  const s1 = await stats(srv);
  const expected = sc.subs * n;
  const cpuS = (s1.cpu_us - s0.cpu_us) / 1e6;
  const notes = [];
  const waitP = waitPct(s0.pid, w0, t0);
  if (r.events < expected) notes.push(`received ${r.events} of ${expected} events`);
  if (r.connect_errors + r.http_errors + r.read_errors + r.bad_stamps) notes.push(errNote(r));
  // The generator's CPU from its first event to the end, over the delivery window.
  const busy = r.active_s > 0 ? r.cpu_s_receiving / r.active_s : 0;
  if (busy > 0.85) notes.push(`load generator ${(busy * 100).toFixed(0)}% busy while receiving: events/s may be client-bound`);
  return {
    metrics: {
      cpu_s_per_M: (cpuS / Math.max(1, r.events)) * 1e6,
      user_s_per_M: ((s1.cpu_user_us - s0.cpu_user_us) / 1e6 / Math.max(1, r.events)) * 1e6,
      sys_s_per_M: ((s1.cpu_sys_us - s0.cpu_sys_us) / 1e6 / Math.max(1, r.events)) * 1e6,
      deliveries_per_s: r.events_per_s,
      events_per_s: r.events_per_s,
      p99_ms: r.lat_ms.p99,
      rss_mb: s1.rss / 2 ** 20,
      wait_pct: waitP,
    },
    notes,
    fanoutPath: s1.fanout,
    gen: r,
  };
}

// Waits (at most `ms`) until the server used under 5 % of a CPU over 250 ms:
// a Node server is still collecting the garbage of the connection storm for
// a second or so after the last connection; the tail of a latency run that
// starts then measures that, not the steady state.
async function settle(srv, ms = 5000) {
  const end = Date.now() + ms;
  let prev = await stats(srv);
  while (Date.now() < end) {
    await sleep(250);
    const s = await stats(srv);
    const busy = (s.cpu_us - prev.cpu_us) / 250e3;
    prev = s;
    if (busy < 0.05) return;
  }
}

async function latency(srv, sc) {
  const n = sc.rate * sc.secs;
  const gen = startGen(['--port', srv.port, '--connections', sc.subs, '--until-events', n, '--sources', 4, '--duration', sc.secs + 60]);
  await withTimeout(gen.ready, 60000, () => stop(gen.child));
  await waitConnections(srv, sc.subs);
  await settle(srv);
  const s0 = await stats(srv);
  const w0 = runqWaitNs(s0.pid);
  const t0 = Date.now();
  await http(srv, `/publish?n=${n}&bytes=${sc.bytes}&rate=${sc.rate}`);
  const r = await withTimeout(gen.result, (sc.secs + 30) * 1000, () => stop(gen.child));
  const s1 = await stats(srv);
  const notes = [];
  const waitP = waitPct(s0.pid, w0, t0);
  if (r.events < sc.subs * n) notes.push(`received ${r.events} of ${sc.subs * n} events`);
  if (r.connect_errors + r.http_errors + r.read_errors + r.bad_stamps) notes.push(errNote(r));
  return {
    metrics: {
      p50_ms: r.lat_ms.p50,
      p99_ms: r.lat_ms.p99,
      max_ms: r.lat_ms.max,
      cpu_s_per_M: ((s1.cpu_us - s0.cpu_us) / 1e6 / Math.max(1, r.events)) * 1e6,
      wait_pct: waitP,
    },
    notes,
    fanoutPath: s1.fanout,
    gen: r,
  };
}

// RSS per idle connection two ways: (RSS with N - RSS with 0) / N, and the
// marginal cost of the second half of the N (no start-up costs in it).
async function idle(srv, sc) {
  await sleep(300);
  const s0 = await stats(srv, true);
  const slab0 = slabBytes();
  const half = Math.floor(sc.subs / 2);
  const gens = [];
  const notes = [];
  let sHalf;
  let connectMs = 0;
  for (const count of [half, sc.subs - half]) {
    const gen = startGen(['--port', srv.port, '--connections', count, '--sources', 4, '--duration', 300]);
    gens.push(gen);
    const ready = await withTimeout(gen.ready, 120000, () => stop(gen.child));
    connectMs += Number(/t_ms=([\d.]+)/.exec(ready ?? '')?.[1] ?? NaN);
    await waitConnections(srv, gens.length === 1 ? half : sc.subs, 30000);
    await sleep(1000);
    if (gens.length === 1) sHalf = await stats(srv, true);
  }
  const s2 = await stats(srv, true);
  const slab2 = slabBytes();
  for (const g of gens) await stop(g.child);
  const rs = await Promise.all(gens.map((g) => g.result));
  const held = s2.connections;
  if (held < sc.subs) notes.push(`server held ${held} of ${sc.subs}`);
  for (const r of rs) if (r.connect_errors + r.http_errors + r.read_errors + r.disconnects) notes.push(errNote(r));
  const connected = rs.reduce((a, r) => a + r.connected, 0);
  return {
    metrics: {
      kb_per_conn: (s2.rss - s0.rss) / Math.max(1, held) / 1024,
      kb_marginal: (s2.rss - sHalf.rss) / Math.max(1, held - sHalf.connections) / 1024,
      kernel_kb_per_conn: (slab2 - slab0) / Math.max(1, held) / 1024,
      connect_per_s: (connected / connectMs) * 1000,
    },
    notes,
    gen: rs[1],
  };
}

// Two storms on one server: the first warms it up, the second is measured
// (fds and RSS before and after it), so a leak shows as a delta.
async function churn(srv, sc) {
  const storm = async () => {
    const gen = startGen(['--port', srv.port, '--connections', sc.subs, '--churn-total', sc.total, '--sources', 4, '--duration', 120]);
    const r = await withTimeout(gen.result, 150000, () => stop(gen.child));
    let s;
    for (let i = 0; i < 50; i++) {
      s = await stats(srv);
      if (s.connections === 0) break;
      await sleep(100);
    }
    await sleep(500);
    s = await stats(srv, true);
    return { r, s, fds: fdCount(s.pid) };
  };
  await sleep(300);
  const a = await storm();
  const b = await storm();
  const notes = [];
  for (const { r, s } of [a, b]) {
    if (r.churned < sc.total) notes.push(`churned ${r.churned} of ${sc.total}`);
    if (s.connections !== 0) notes.push(`server still counts ${s.connections} connections`);
    if (r.connect_errors + r.http_errors) notes.push(errNote(r));
  }
  return {
    metrics: {
      connect_per_s: b.r.churned / b.r.elapsed_s,
      fd_delta: b.fds - a.fds,
      rss_delta_mb: (b.s.rss - a.s.rss) / 2 ** 20,
    },
    notes,
    gen: b.r,
  };
}

function errNote(r) {
  return `errors: connect ${r.connect_errors}, http ${r.http_errors}, read ${r.read_errors}, disconnects ${r.disconnects}, bad stamps ${r.bad_stamps}`;
}

const RUNNERS = { fanout, single: fanout, latency, idle, churn };

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

// ---- build and machine info

function build() {
  log('building sse_load and sse_floor (out/bench, Release)');
  execFileSync('cmake', ['-S', '.', '-B', 'out/bench', '-DCMAKE_BUILD_TYPE=Release'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('cmake', ['--build', 'out/bench', '-j2', '--target', 'sse_load', 'sse_floor'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const newest = (dir) => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
    }
    return t;
  };
  const dist = path.join(root, 'dist/index.js');
  if (!fs.existsSync(dist) || fs.statSync(dist).mtimeMs < newest(path.join(root, 'lib'))) {
    log('dist/ is stale: npx tsc -p tsconfig.json');
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    } catch {
      log('tsc reported errors; using dist/ as emitted');
    }
  }
  if (!fs.existsSync(path.join(root, 'build/Release/sse_native.node'))) {
    log('addon missing: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  return {
    date: new Date().toISOString(),
    nproc: sh('nproc', []),
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? '?',
    mhz: /cpu MHz\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? '?',
    memGB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: process.version,
    commit: sh('git', ['rev-parse', '--short', 'HEAD']),
    dirty: sh('git', ['status', '--porcelain', '--untracked-files=no']) !== '',
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

// ---- report

const fmt = (v) => {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e4) return String(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)} k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
};
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && a > 0 && b > 0 ? `${(a / b).toFixed(2)}x` : '');
// Deltas and noise: a ratio of them means nothing.
const NO_RATIO = new Set(['wait_pct', 'fd_delta', 'rss_delta_mb']);

function describe(sc) {
  switch (sc.kind) {
    case 'fanout':
      return `fan-out ${sc.subs} subs, ${sc.n} x ${sc.bytes} B, ${sc.mode === 'turn' ? 'one per turn' : 'burst in one turn'}`;
    case 'latency':
      return `latency ${sc.subs} subs x ${sc.rate} ev/s, ${sc.secs} s`;
    case 'single':
      return `single stream, ${sc.n} x ${sc.bytes} B, ${sc.per} per turn`;
    case 'idle':
      return `idle ${sc.subs} subs`;
    case 'churn':
      return `churn 2 x ${sc.total} connections, ${sc.subs} at a time`;
  }
}

function report(results, scenarios, servers, info) {
  const main = servers.includes('sse-native-adopted') ? 'sse-native-adopted' : servers[0];
  const anchors = ANCHORS.filter((a) => servers.includes(a) && a !== main);
  const md = [];
  md.push(`# sse-native whole-server benchmarks (${info.mode})`);
  md.push('');
  md.push(
    `Measured ${info.date} on ${info.nproc} cores (${info.cpu}, ${info.memGB} GB), Linux ${info.kernel}, Node ${info.node}, ` +
      `commit ${info.commit}${info.dirty ? ' + uncommitted changes' : ''}; load average at start ${info.loadavg}. ` +
      `Each server alone in its own process pinned to CPU 0, the native load generator (bench/load/sse_load) on CPU 1, ` +
      `loopback. Medians of the runs shown in the last column; ratios are this / anchor (below 1 is better for CPU, ` +
      `latency and memory; above 1 is better for rates). The machine is shared: expect noise. Suite took ${Number(info.elapsedS).toFixed(0)} s.`,
  );
  md.push('');
  const head = ['scenario', 'metric', ...servers, ...anchors.map((a) => `${short(main)} / ${short(a)}`), 'runs'];
  md.push(`| ${head.join(' | ')} |`);
  md.push(`|${head.map(() => '---').join('|')}|`);
  const notes = [];
  for (const sc of scenarios) {
    const per = results[sc.id];
    if (!per) continue;
    for (const [key, label] of METRICS[sc.kind]) {
      const med = Object.fromEntries(servers.map((s) => [s, median((per[s] ?? []).map((r) => r.metrics[key]))]));
      const row = [describe(sc), label, ...servers.map((s) => fmt(med[s])), ...anchors.map((a) => (NO_RATIO.has(key) ? '' : ratio(med[main], med[a]))), String(Math.max(...servers.map((s) => (per[s] ?? []).length)))];
      md.push(`| ${row.join(' | ')} |`);
    }
    for (const s of servers) {
      for (const [i, r] of (per[s] ?? []).entries()) {
        const one = (t) => t.replace(/\s+/g, ' ').slice(0, 240);
        for (const n of r.notes ?? []) notes.push(`- ${sc.id}, ${s}, run ${i + 1}: ${one(n)}`);
        if (r.error) notes.push(`- ${sc.id}, ${s}, run ${i + 1}: FAILED (3 attempts): ${one(r.error)}`);
      }
    }
  }
  const paths = new Set();
  for (const sc of scenarios) for (const r of results[sc.id]?.['sse-native-adopted'] ?? []) if (r.fanoutPath) paths.add(r.fanoutPath);
  md.push('');
  md.push(
    `Payload: data \`t=<hrtime ns>\` padded with dots to the byte count; raw writes \`data: ...\\n\\n\`, better-sse its defaults ` +
      `(JSON-quoted data, an id per event, \`event: message\`), sse-native \`send({ data })\`. sse-native fan-out path: ` +
      `${[...paths].join(', ') || 'n/a'} (hub-* = the hub's broadcast, set-loop = a JS loop of stream.send over a Set). ` +
      `C floor = bench/load/sse_floor.cc, one thread, epoll, one write() per delivery, no chunked encoding. ` +
      `CPU = process.cpuUsage() (C: getrusage) delta around the publish; idle RSS = (RSS with N idle - RSS with 0) / N ` +
      `after a full GC ("second half" = RSS added by the last N/2 connections / (N/2), without start-up costs); ` +
      `kernel socket buffers are not in RSS. The "noise" rows are the share of the measured window the server's main ` +
      `thread was runnable but waiting for CPU 0 (/proc/<pid>/schedstat): other processes on this shared machine, or the ` +
      `server's own helper threads (GC); latencies and rates from runs with a high share are not worth much, CPU ` +
      `seconds hold up better. Load average at the end: ${info.loadavgEnd}.`,
  );
  md.push('');
  md.push('## Notes from the runs');
  md.push('');
  md.push(notes.length ? notes.join('\n') : '- none: every run delivered every event with no errors.');
  md.push('');
  md.push('![chart](latest.svg)');
  md.push('');
  return md.join('\n');
}

const short = (s) => ({ 'sse-native-adopted': 'adopted', 'sse-native-fallback': 'fallback', 'sse-native-accept': 'accept', 'sse-native-accept-stream': 'accept+stream', raw: 'raw', 'better-sse': 'better-sse', nchan: 'nchan', 'c-floor': 'C floor' })[s] ?? s;

// Grouped horizontal bars, one group per metric, each normalised to raw = 1.
function svg(results, scenarios, servers, info) {
  const colors = { 'sse-native-accept': '#08306b', 'sse-native-accept-stream': '#2171b5', 'sse-native-adopted': '#1f77b4', 'sse-native-fallback': '#9ecae1', raw: '#7f7f7f', 'better-sse': '#ff7f0e', nchan: '#9467bd', 'c-floor': '#2ca02c' };
  const rows = [];
  for (const sc of scenarios) {
    const per = results[sc.id];
    if (!per) continue;
    const [key, label, lower] = METRICS[sc.kind][0];
    const extra = sc.kind === 'latency' ? [METRICS.latency[1]] : [];
    for (const [k, l, lw] of [[key, label, lower], ...extra]) {
      const med = servers.map((s) => median((per[s] ?? []).map((r) => r.metrics[k])));
      const base = med[servers.indexOf('raw')];
      rows.push({ title: `${describe(sc)}: ${l} (${lw ? 'lower' : 'higher'} is better)`, med, base });
    }
  }
  const barH = 14;
  const groupH = servers.length * barH + 30;
  const W = 960;
  const left = 170;
  const plotW = W - left - 110;
  const H = 50 + rows.length * groupH + 30;
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`];
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">sse-native vs anchors, normalised to raw res.write = 1 (${info.mode}, medians)</text>`);
  servers.forEach((s, i) => {
    out.push(`<rect x="${10 + i * 180}" y="30" width="12" height="12" fill="${colors[s] ?? '#333'}"/><text x="${26 + i * 180}" y="40">${esc(s)}</text>`);
  });
  rows.forEach((row, g) => {
    const y0 = 50 + g * groupH;
    out.push(`<text x="10" y="${y0 + 14}" font-weight="bold">${esc(row.title)}</text>`);
    const maxR = Math.max(1, ...row.med.map((v) => (Number.isFinite(v) && row.base ? v / row.base : 0)));
    const x1 = left + (1 / maxR) * plotW;
    out.push(`<line x1="${x1.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${y0 + 18}" y2="${y0 + 20 + servers.length * barH}" stroke="#000" stroke-dasharray="3,2"/>`);
    row.med.forEach((v, i) => {
      const r = Number.isFinite(v) && row.base ? v / row.base : 0;
      const y = y0 + 20 + i * barH;
      const w = Math.max(1, (r / maxR) * plotW);
      out.push(`<text x="${left - 6}" y="${y + 10}" text-anchor="end">${esc(short(servers[i]))}</text>`);
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 3}" fill="${colors[servers[i]] ?? '#333'}"/>`);
      out.push(`<text x="${left + w + 4}" y="${y + 10}">${esc(fmt(v))} (${r ? r.toFixed(2) : 'n/a'}x)</text>`);
    });
  });
  out.push(
    `<text x="10" y="${H - 10}" fill="#555">${esc(`${info.date}: ${info.nproc} cores (${info.cpu}), Node ${info.node}, commit ${info.commit}; server on CPU 0, load generator on CPU 1; shared machine, see latest.md for noise`)}</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

// ---- soak: bench/soak.mjs (also `npm run soak`), after the build above

function soak(minutes) {
  const map = { 'soak-subs': 'clients', 'soak-rate': 'rate', 'soak-interval-s': 'interval-s', 'soak-churn': 'churn', 'soak-slow': 'slow' };
  const args = ['bench/soak.mjs', '--minutes', String(minutes), '--out', OUT];
  for (const [from, to] of Object.entries(map)) if (opt(from, null) !== null) args.push(`--${to}`, opt(from));
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

// ---- main

async function main() {
  const t0 = Date.now();
  if (!flag('no-build')) build();
  if (!fs.existsSync(GEN)) throw new Error(`${GEN} missing (build with cmake --build out/bench --target sse_load)`);
  const soakMin = Number(opt('soak-minutes', 0));
  if (soakMin > 0) return soak(soakMin);
  if (flag('render')) return render();

  const servers = opt('servers', Object.keys(SERVERS).join(',')).split(',');
  for (const s of servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`);
  const only = opt('scenarios', null)?.split(',');
  const matrix = (FULL ? FULL_MATRIX : QUICK).filter((sc) => !only || only.includes(sc.id) || only.includes(sc.kind));
  const reps = opt('reps', null);
  const info = machine();
  const results = {};
  for (const sc of matrix) {
    results[sc.id] = {};
    const n = reps ? Number(reps) : sc.reps;
    for (let rep = 0; rep < n; rep++) {
      // Servers interleaved within a repetition, so drift hits all alike.
      for (const name of servers) {
        let r;
        // A failed run is retried twice after a pause: others share this
        // checkout, and a rebuild of the addon makes a server fail to start.
        for (let attempt = 1; attempt <= 3; attempt++) {
          let srv;
          try {
            srv = await startServer(name);
            r = await RUNNERS[sc.kind](srv, sc);
          } catch (err) {
            r = { metrics: {}, error: String(err?.message ?? err).slice(0, 300) };
          } finally {
            if (srv) {
              const errText = srv.stderr().trim();
              await stop(srv.child);
              if (errText && r) (r.notes ??= []).push(`server stderr: ${errText.slice(0, 200)}`);
            }
          }
          if (!r.error) {
            if (attempt > 1) (r.notes ??= []).push(`succeeded on attempt ${attempt}`);
            break;
          }
          log(`${sc.id} #${rep + 1} ${name}: attempt ${attempt} failed: ${r.error.split('\n')[0]}`);
          if (attempt < 3) await sleep(10000);
        }
        (results[sc.id][name] ??= []).push(r);
        const m = Object.entries(r.metrics)
          .filter(([k]) => METRICS[sc.kind].some(([mk]) => mk === k))
          .map(([k, v]) => `${k}=${fmt(v)}`)
          .join(' ');
        log(`${sc.id} #${rep + 1} ${name}: ${r.error ? 'FAILED ' + r.error : m}${r.notes?.length ? ' [' + r.notes.join('; ') + ']' : ''}`);
      }
    }
  }
  info.elapsedS = (Date.now() - t0) / 1000;
  info.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const strip = (o) => JSON.parse(JSON.stringify(o, (k, v) => (k === 'gen' ? { events: v.events, lat_ms: v.lat_ms, elapsed_s: v.elapsed_s, active_s: v.active_s, cpu_s_receiving: v.cpu_s_receiving } : v)));
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'latest.json'), JSON.stringify({ mode: MODE, info, servers, scenarios: matrix, results: strip(results) }, null, 1));
  render();
}

// Writes latest.md and latest.svg from latest.json (also alone: --render).
function render() {
  const j = JSON.parse(fs.readFileSync(path.join(OUT, 'latest.json'), 'utf8'));
  j.info.mode ??= j.mode;
  const servers = j.servers ?? Object.keys(SERVERS).filter((s) => j.scenarios.some((sc) => j.results[sc.id]?.[s]));
  const md = report(j.results, j.scenarios, servers, j.info);
  fs.writeFileSync(path.join(OUT, 'latest.md'), md);
  fs.writeFileSync(path.join(OUT, 'latest.svg'), svg(j.results, j.scenarios, servers, j.info));
  console.log(md);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
