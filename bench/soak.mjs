// The soak: an hour (or --minutes) of mixed load on one sse-native server,
// sampled every --interval-s, failing on growth.
//
//   npm run soak -- --minutes 60          (the issue's run; about 62 min)
//   node bench/soak.mjs --minutes 0.5 --clients 200 --churn 20 --slow 4   (CI's short soak)
//
// Load (server: bench/servers/soak-server.mjs, every stream a hub member):
//   --clients N (1000)  steady readers, native load generator (bench/load/sse_load),
//                        each must receive every broadcast and every per-stream send
//   --rate R (100)      broadcasts/s of --bytes (64) to all of them; every 10th tick
//                        also one stream.send() to each steady stream and one
//                        --bulk-byte (16384) broadcast to the slow readers
//   --churn C (100)     clients that join, read for 0.5-8 s and leave (1 in 4 on the
//                        res.write fallback path, 1 in 10 gone before the head), replaced at once
//   --slow S (20)       readers that never read: the slow-consumer policy must close
//                        them (maxBuffered); a paused socket does not see that close, so each
//                        leaves after 30-60 s and is replaced
// Samples (every --interval-s, 10): server RSS, V8 heap used after a full GC,
// external memory, bytes queued for the clients (sum of bufferedAmount), open
// fds, connections per role, events/s, p50/p99/max latency of the steady
// readers since the last sample, the server's longest event-loop delay and
// the share of time its main thread waited for a CPU (machine noise); a
// sample whose /stats did not answer within 10 s is counted as missed.
//
// Fails (exit 1) when
//   - a steady reader missed an event or saw an error,
//   - growth: after warm-up (the first 20 % of the samples, at least one), the
//     median of the last third exceeds the median of the first third by more than
//     RSS 10 % + 16 MB, heap 10 % + 8 MB, fds 10 % + 32,
//   - after every client left, the server's fds are not back to the baseline
//     taken before the first client (+2 allowed for 10 s) or it still counts a stream.
// p99 is reported (median of the first and last thirds), not judged: the machine is shared.
//
// Writes <out>/soak.json, soak.csv, soak.md and soak.svg (--out, default
// bench/results/soak); --svg FILE also writes the picture there (README: docs/soak-60min.svg).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lines, startChild, stop } from './children.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const MINUTES = Number(opt('minutes', 60));
const CLIENTS = Number(opt('clients', 1000));
const RATE = Number(opt('rate', 100));
const BYTES = Number(opt('bytes', 64));
const PER = 10;
const BULK = Number(opt('bulk', 16384));
const CHURN = Number(opt('churn', 100));
const SLOW = Number(opt('slow', 20));
const EVERY = Number(opt('interval-s', 10));
const OUT = path.resolve(root, opt('out', 'bench/results/soak'));
const SVG = opt('svg', null);
const GEN = path.join(root, 'out/bench/bench/load/sse_load');
// Growth tolerances (README: reliability table).
const TOL = { rss_mb: [0.1, 16], heap_mb: [0.1, 8], fds: [0.1, 32] };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[soak]', ...a);

for (const [f, how] of [
  [GEN, 'cmake -S . -B out/bench -DCMAKE_BUILD_TYPE=Release && cmake --build out/bench --target sse_load'],
  [path.join(root, 'dist/index.js'), 'npm run build'],
]) {
  if (!fs.existsSync(f)) {
    console.error(`${path.relative(root, f)} missing: ${how}`);
    process.exit(2);
  }
}

// ---- processes (every one started here is stopped here, by pid)

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function start(cmd, args) {
  return startChild(root, cmd, args);
}

async function startServer() {
  const child = start(process.execPath, ['--expose-gc', 'bench/servers/soak-server.mjs', '0']);
  let stderr = '';
  lines(child.stderr, (l) => {
    stderr += l + '\n';
    log('server:', l);
  });
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`soak server: no LISTENING in 10 s: ${stderr}`)), 10000);
    lines(child.stdout, (l) => {
      const m = /^LISTENING (\d+)/.exec(l);
      if (m) resolve(Number(m[1]), clearTimeout(t));
    });
    child.exited.then(({ code, sig }) => reject(new Error(`soak server exited ${code ?? sig}: ${stderr}`)));
  });
  return { child, port };
}

async function get(srv, pathname, timeoutMs = 10000) {
  const r = await fetch(`http://127.0.0.1:${srv.port}${pathname}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  return text ? JSON.parse(text) : {};
}
// Nanoseconds the process's main thread spent runnable, waiting for a CPU.
function runqWaitNs(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
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

// ---- churn and slow readers (raw sockets in this process)

const counts = { churnOpened: 0, churnHeads: 0, churnEarly: 0, churnErrors: 0, slowOpened: 0, slowErrors: 0 };
let running = true;
const sockets = new Set();

function request(srv, query) {
  const sock = net.connect(srv.port, '127.0.0.1');
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.write(`GET /sub?${query} HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\n\r\n`);
  return sock;
}

function churnOne(srv, i) {
  if (!running) return;
  counts.churnOpened++;
  const early = counts.churnOpened % 10 === 0;
  const sock = request(srv, `role=churn${i % 4 === 0 ? '&adopt=0' : ''}`);
  let head = false;
  let timer;
  sock.on('data', (d) => {
    if (!head && d.includes('\r\n\r\n')) {
      head = true;
      counts.churnHeads++;
    }
  });
  sock.on('error', () => counts.churnErrors++);
  sock.on('close', () => {
    clearTimeout(timer);
    setImmediate(() => churnOne(srv, i));
  });
  if (early) {
    counts.churnEarly++;
    setImmediate(() => sock.destroy());
  } else {
    timer = setTimeout(() => sock.destroy(), 500 + Math.random() * 7500);
  }
}

function slowOne(srv) {
  if (!running) return;
  counts.slowOpened++;
  const sock = request(srv, 'role=slow');
  sock.pause(); // never reads: the server's queue for it must hit maxBuffered
  const timer = setTimeout(() => sock.destroy(), 30000 + Math.random() * 30000);
  sock.on('error', () => counts.slowErrors++);
  sock.on('close', () => {
    clearTimeout(timer);
    setTimeout(() => slowOne(srv), 100);
  });
  return sock;
}

// ---- the run

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const mb = (b) => b / 2 ** 20;
const r1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const r3 = (x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

async function main() {
  const t0 = Date.now();
  const info = {
    date: new Date().toISOString(),
    minutes: MINUTES,
    clients: CLIENTS,
    rate: RATE,
    bytes: BYTES,
    bulk: BULK,
    churn: CHURN,
    slow: SLOW,
    intervalS: EVERY,
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    node: process.version,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  const srv = await startServer();
  await sleep(500);
  const base = await get(srv, '/stats?gc=1');
  const pid = base.pid;
  const baseFds = fdCount(pid);
  log(`server pid ${pid} port ${srv.port}; baseline fds ${baseFds}, RSS ${mb(base.rss).toFixed(1)} MB`);

  const ticks = Math.ceil(RATE * MINUTES * 60);
  const perConn = ticks + Math.ceil(ticks / PER);
  const samples = [];
  // The generator's interval lines since the last sample: a sample covers
  // them all (worst p99 and max, mean rate), so a late sample hides nothing.
  let genLines = [];
  const gen = start(GEN, [
    '--port', srv.port, '--path', '/sub?role=steady', '--connections', CLIENTS, '--sources', 4,
    '--until-events', perConn, '--duration', MINUTES * 60 + 180, '--interval-s', EVERY,
  ]);
  let genErr = '';
  let final = null;
  let readyResolve;
  const ready = new Promise((r) => (readyResolve = r));
  lines(gen.stderr, (l) => {
    genErr += l + '\n';
    if (l.startsWith('READY')) readyResolve(l);
  });
  lines(gen.stdout, (l) => {
    if (!l.startsWith('{')) return;
    const j = JSON.parse(l);
    if (j.kind === 'final') final = j;
    else genLines.push(j);
  });
  gen.exited.then(() => readyResolve(null));
  const readyLine = await Promise.race([ready, sleep(120000)]);
  if (!readyLine) throw new Error(`sse_load not ready: ${genErr}`);
  for (let i = 0; i < 300; i++) {
    const s = await get(srv, '/stats');
    if (s.steady >= CLIENTS) break;
    await sleep(100);
  }
  for (let i = 0; i < CHURN; i++) churnOne(srv, i);
  for (let i = 0; i < SLOW; i++) slowOne(srv);
  const tPub = Date.now();
  await get(srv, `/publish?n=${ticks}&rate=${RATE}&bytes=${BYTES}&per=${PER}&bulk=${BULK}`);
  log(`publishing ${ticks} ticks at ${RATE}/s to ${CLIENTS} steady + ${CHURN} churn + ${SLOW} slow clients`);

  let missed = 0;
  let wait0 = runqWaitNs(pid);
  let tLast = Date.now();
  const sample = async () => {
    const s = await get(srv, '/stats?gc=1').catch(() => null);
    if (!s) return void missed++;
    const ls = genLines;
    genLines = [];
    const g = ls.length
      ? {
          events_per_s: ls.reduce((a, j) => a + j.events_per_s, 0) / ls.length,
          lat_ms: { p50: median(ls.map((j) => j.lat_ms.p50)), p99: Math.max(...ls.map((j) => j.lat_ms.p99)), max: Math.max(...ls.map((j) => j.lat_ms.max)) },
        }
      : null;
    const wait = runqWaitNs(pid);
    const now = Date.now();
    const waitPct = ((wait - wait0) / 1e6 / Math.max(1, now - tLast)) * 100;
    wait0 = wait;
    tLast = now;
    const row = {
      t_s: Math.round((Date.now() - tPub) / 1000),
      rss_mb: r1(mb(s.rss)),
      heap_mb: r1(mb(s.heapUsed)),
      external_mb: r1(mb(s.external)),
      queued_mb: r1(mb(s.queued)),
      fds: fdCount(pid),
      connections: s.connections,
      steady: s.steady,
      churn: s.churn,
      slow: s.slow,
      churn_opened: counts.churnOpened,
      slow_closed_by_server: s.closes.slow.SSE_SLOW_CONSUMER ?? 0,
      events_per_s: g ? Math.round(g.events_per_s) : null,
      p50_ms: g ? r3(g.lat_ms.p50) : null,
      p99_ms: g ? r3(g.lat_ms.p99) : null,
      max_ms: g ? r3(g.lat_ms.max) : null,
      // The server's longest event-loop delay since the last sample, and the
      // share of the time its main thread was runnable but had no CPU (the
      // shared machine): a latency spike with a high wait is the machine's.
      loop_delay_max_ms: r1(s.loopDelayMaxMs),
      cpu_wait_pct: r1(waitPct),
      missed_samples: missed,
    };
    samples.push(row);
    console.log(JSON.stringify(row));
  };
  const timer = setInterval(sample, EVERY * 1000);
  const genDone = gen.exited;
  await Promise.race([genDone, sleep((MINUTES * 60 + 150) * 1000)]);
  clearInterval(timer);
  const stAtEnd = await get(srv, '/stats');

  // Everyone leaves; the server must return to its baseline.
  running = false;
  for (const s of sockets) s.destroy();
  await stop(gen);
  let endStats;
  let endFds;
  for (let i = 0; i < 100; i++) {
    endStats = await get(srv, '/stats?gc=1');
    endFds = fdCount(pid);
    if (endStats.connections === 0 && endFds <= baseFds + 2) break;
    await sleep(100);
  }
  await stop(srv.child);

  // ---- verdict
  const failures = [];
  if (!final) failures.push(`sse_load gave no result: ${genErr.slice(0, 300)}`);
  else {
    const want = CLIENTS * perConn;
    if (final.events < want) failures.push(`steady readers received ${final.events} of ${want} events`);
    const errs = final.connect_errors + final.http_errors + final.read_errors + final.disconnects + final.bad_stamps;
    if (errs) failures.push(`steady readers: connect ${final.connect_errors}, http ${final.http_errors}, read ${final.read_errors}, disconnects ${final.disconnects}, bad stamps ${final.bad_stamps}`);
  }
  const warm = Math.max(1, Math.floor(samples.length * 0.2));
  const body = samples.slice(warm);
  const third = Math.max(1, Math.floor(body.length / 3));
  const first = body.slice(0, third);
  const last = body.slice(-third);
  const growth = {};
  for (const [k, [pct, abs]] of Object.entries(TOL)) {
    const a = median(first.map((s) => s[k]));
    const b = median(last.map((s) => s[k]));
    const limit = a * (1 + pct) + abs;
    growth[k] = { first: a, last: b, limit: r1(limit), ok: !(b > limit) };
    if (b > limit) failures.push(`${k} grew: median ${a} in the first third, ${b} in the last (limit ${r1(limit)})`);
  }
  growth.p99_ms = { first: median(first.map((s) => s.p99_ms)), last: median(last.map((s) => s.p99_ms)) };
  if (body.length < 3) failures.push(`only ${samples.length} samples: run longer for a growth verdict`);
  if (endStats.connections !== 0) failures.push(`server still counts ${endStats.connections} streams after every client left`);
  if (!(endFds <= baseFds + 2)) failures.push(`fds ${endFds} after every client left, baseline ${baseFds}`);
  if ((stAtEnd.closes.slow.SSE_SLOW_CONSUMER ?? 0) === 0 && SLOW > 0 && MINUTES >= 2) failures.push('no slow reader was closed by the slow-consumer policy');

  info.elapsedS = Math.round((Date.now() - t0) / 1000);
  info.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const result = {
    info,
    baseline: { fds: baseFds, rss_mb: r1(mb(base.rss)), heap_mb: r1(mb(base.heapUsed)) },
    end: { fds: endFds, connections: endStats.connections, rss_mb: r1(mb(endStats.rss)), heap_mb: r1(mb(endStats.heapUsed)) },
    growth,
    totals: {
      steady_events: final?.events ?? 0,
      steady_expected: CLIENTS * perConn,
      latency_ms: final?.lat_ms ?? null,
      per_stream_sends: stAtEnd.sentPerStream,
      ticks: stAtEnd.ticks,
      churn_opened: counts.churnOpened,
      churn_heads: counts.churnHeads,
      churn_left_before_head: counts.churnEarly,
      slow_opened: counts.slowOpened,
      closes: stAtEnd.closes,
    },
    noise: {
      missed_samples: missed,
      loop_delay_max_ms: Math.max(0, ...samples.map((x) => x.loop_delay_max_ms).filter(Number.isFinite)),
      cpu_wait_pct_median: median(samples.map((x) => x.cpu_wait_pct)),
      cpu_wait_pct_max: Math.max(0, ...samples.map((x) => x.cpu_wait_pct).filter(Number.isFinite)),
    },
    failures,
    samples,
  };
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'soak.json'), JSON.stringify(result, null, 1) + '\n');
  const cols = Object.keys(samples[0] ?? { t_s: 0 });
  fs.writeFileSync(path.join(OUT, 'soak.csv'), [cols.join(','), ...samples.map((s) => cols.map((c) => s[c] ?? '').join(','))].join('\n') + '\n');
  fs.writeFileSync(path.join(OUT, 'soak.md'), report(result));
  const pic = svg(result);
  fs.writeFileSync(path.join(OUT, 'soak.svg'), pic);
  if (SVG) fs.writeFileSync(path.resolve(root, SVG), pic);
  console.log(report(result));
  process.exitCode = failures.length ? 1 : 0;
}

function report(r) {
  const g = r.growth;
  const t = r.totals;
  const c = (o) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `# soak: ${r.info.minutes} min, ${r.info.clients} steady readers, ${r.info.rate} broadcasts/s, ${r.info.churn} churning, ${r.info.slow} slow`,
    '',
    `${r.info.date}, ${r.info.nproc} cores (${r.info.cpu}), Node ${r.info.node}; load average ${r.info.loadavg} at start, ${r.info.loadavgEnd} at end (shared machine).`,
    '',
    '| measure | first third | last third | limit | ok |',
    '|---|---|---|---|---|',
    ...['rss_mb', 'heap_mb', 'fds'].map((k) => `| ${k} (median) | ${g[k].first} | ${g[k].last} | ${g[k].limit} | ${g[k].ok ? 'yes' : 'NO'} |`),
    `| p99 ms (median) | ${g.p99_ms.first} | ${g.p99_ms.last} | reported | |`,
    '',
    `Steady readers: ${t.steady_events} of ${t.steady_expected} events (broadcasts + ${t.per_stream_sends} per-stream sends), ` +
      `latency p50 ${t.latency_ms?.p50} ms, p99 ${t.latency_ms?.p99} ms, p99.9 ${t.latency_ms?.p999} ms, max ${t.latency_ms?.max} ms. ` +
      `Churn: ${t.churn_opened} connections (${t.churn_left_before_head} gone before the head). Slow readers: ${t.slow_opened} opened. ` +
      `Server closes: steady: ${c(t.closes.steady)}; churn: ${c(t.closes.churn)}; slow: ${c(t.closes.slow)}.`,
    '',
    r.noise
      ? `Noise: ${r.noise.missed_samples} samples missed (/stats did not answer in 10 s), longest server event-loop delay ` +
        `${r.noise.loop_delay_max_ms} ms, server main thread waiting for a CPU ${r.noise.cpu_wait_pct_median}% of the time (median of the samples; worst ${r.noise.cpu_wait_pct_max}%).`
      : 'Noise: not recorded by this run (loop delay and CPU wait were sampled from a later version of bench/soak.mjs).',
    '',
    `fds: baseline ${r.baseline.fds}, after every client left ${r.end.fds} (streams counted: ${r.end.connections}). ` +
      `RSS: baseline ${r.baseline.rss_mb} MB, end ${r.end.rss_mb} MB. Heap used after GC: baseline ${r.baseline.heap_mb} MB, end ${r.end.heap_mb} MB.`,
    '',
    r.failures.length ? `FAILED:\n${r.failures.map((f) => `- ${f}`).join('\n')}` : 'PASSED: no growth, every event delivered, fds back to baseline.',
    '',
  ].join('\n');
}

// Four stacked panels over time: RSS + heap (MB), fds, connections, p99 (ms).
function svg(r) {
  const S = r.samples;
  const W = 900;
  const left = 60;
  const plotW = W - left - 20;
  const panelH = 120;
  const gap = 36;
  const panels = [
    { title: 'server memory MB (RSS; V8 heap used after GC; queued for clients)', series: [['rss_mb', '#1f77b4'], ['heap_mb', '#ff7f0e'], ['queued_mb', '#8c564b']] },
    { title: 'open fds of the server', series: [['fds', '#2ca02c']] },
    { title: 'streams open (all roles)', series: [['connections', '#9467bd']] },
    { title: 'p99 latency of the steady readers, ms (per interval)', series: [['p99_ms', '#d62728']] },
  ];
  const H = 60 + panels.length * (panelH + gap) + 20;
  const tMax = Math.max(1, ...S.map((s) => s.t_s));
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`];
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const i = r.info;
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(`sse-native soak: ${i.minutes} min, ${i.clients} steady readers, ${i.rate} broadcasts/s, ${i.churn} churning, ${i.slow} slow readers`)}</text>`);
  out.push(`<text x="10" y="38" fill="#555">${esc(`${i.date}, ${i.nproc} cores, Node ${i.node}; a sample every ${i.intervalS} s; ${r.failures.length ? 'FAILED' : 'passed'}; shaded: warm-up, not judged; the first and last thirds of the rest are compared`)}</text>`);
  const warm = Math.max(1, Math.floor(S.length * 0.2));
  panels.forEach((p, k) => {
    const y0 = 60 + k * (panelH + gap);
    const vals = p.series.flatMap(([key]) => S.map((s) => s[key]).filter(Number.isFinite));
    const vMax = Math.max(1, ...vals) * 1.1;
    const x = (t) => left + (t / tMax) * plotW;
    const y = (v) => y0 + panelH - (v / vMax) * panelH;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(p.title)}</text>`);
    if (S[warm]) out.push(`<rect x="${left}" y="${y0}" width="${(x(S[warm].t_s) - left).toFixed(1)}" height="${panelH}" fill="#eee"/>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (const f of [0, 0.5, 1]) {
      const v = vMax * f;
      out.push(`<text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(v >= 10 ? v.toFixed(0) : v.toFixed(1))}</text>`);
    }
    for (const [key, color] of p.series) {
      const pts = S.filter((s) => Number.isFinite(s[key])).map((s) => `${x(s.t_s).toFixed(1)},${y(s[key]).toFixed(1)}`);
      if (pts.length) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    }
    if (p.series.length > 1) p.series.forEach(([key, color], j) => out.push(`<text x="${W - 230 + j * 75}" y="${y0 - 6}" fill="${color}">${key}</text>`));
  });
  const yAxis = 60 + panels.length * (panelH + gap) - gap + 16;
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<text x="${(left + f * plotW).toFixed(1)}" y="${yAxis}" text-anchor="${f === 1 ? 'end' : 'middle'}">${((f * tMax) / 60).toFixed(f * tMax < 600 ? 1 : 0)} min</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

// --render: rewrite soak.md and soak.svg (and --svg) from <out>/soak.json, no run.
function render() {
  const r = JSON.parse(fs.readFileSync(path.join(OUT, 'soak.json'), 'utf8'));
  fs.writeFileSync(path.join(OUT, 'soak.md'), report(r));
  const pic = svg(r);
  fs.writeFileSync(path.join(OUT, 'soak.svg'), pic);
  if (SVG) fs.writeFileSync(path.resolve(root, SVG), pic);
}

(argv.includes('--render') ? Promise.resolve(render()) : main()).then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
