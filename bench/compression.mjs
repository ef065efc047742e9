// Should SSE streams of model output be compressed? One run, side by side:
// the same token stream (OpenAI-shaped `chat.completion.chunk` events of 1
// to 5 tokens, framed by the core encoder) written to C loopback
// connections, one event per connection per loop turn (tokens arrive
// spaced), either as they are or through a per-connection zlib stream
// (deflate or gzip) flushed with Z_SYNC_FLUSH once per turn, as an
// HTTP `Content-Encoding` would need. The reading side is a separate
// process (so its CPU is not counted); this process's CPU (user + system,
// zlib's threadpool included) is measured per event.
//
//   npm run build && node bench/compression.mjs [--conns 100] [--turns 400] [--reps 3]
//
// Prints a Markdown table (bytes on the wire, saving, CPU per event, CPU
// ratio to no compression, zlib memory per connection) and the verdict
// against the bar of docs/compression.md: build a `compress` option only if
// it saves 30 % or more for at most twice the CPU.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { once } from 'node:events';

const require = createRequire(import.meta.url);
const { encodeEvent } = require('../dist/index.js');
const { tokenize } = require('../examples/shared/fake-model.js');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const CONNS = opt('conns', 100);
const TURNS = opt('turns', 400);
const REPS = opt('reps', 3);

// --- the token stream ----------------------------------------------------------
const TEXT =
  'Server-Sent Events keep one HTTP response open and write lines that start with data, and the browser turns each block ' +
  'into a message event. Most model APIs stream tokens this way because it is plain HTTP: proxies pass it, caches leave it ' +
  'alone, and a client that reconnects sends Last-Event-ID to resume where it stopped. The answer arrives a few tokens at a ' +
  'time, each wrapped in the same JSON envelope with the completion id, the model name and a timestamp, so most bytes on ' +
  'the wire repeat from one event to the next while only the delta content changes. Compression could remove that ' +
  'repetition, but every event has to leave at once, so the compressor must flush after each one. ';
const tokens = tokenize(TEXT.repeat(20));
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const frames = [];
for (let i = 0, n = 0; frames.length < TURNS; n++) {
  const k = 1 + Math.floor(rand() * 5); // 1 to 5 tokens per chunk
  const content = tokens.slice(i, i + k).join('');
  i = (i + k) % tokens.length;
  frames.push(
    encodeEvent({
      data: {
        id: 'chatcmpl-9f8e7d6c5b4a39281706f5e4',
        object: 'chat.completion.chunk',
        created: 1764150000 + Math.floor(n / 40),
        model: 'gpt-4o-mini-2024-07-18',
        system_fingerprint: 'fp_0ba0d124f1',
        choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
      },
    }),
  );
}
const rawBytesPerConn = frames.reduce((a, f) => a + f.length, 0);

// --- the reader: another process that drains every connection --------------------
const SINK = `
const net = require('node:net');
const srv = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); });
srv.listen(0, '127.0.0.1', () => process.stdout.write(String(srv.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

async function startSink() {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await Promise.race([
    once(child.stdout, 'data'),
    new Promise((_, rej) => setTimeout(() => rej(new Error('sink did not start')), 10_000)),
  ]);
  return { port: Number(String(line).trim()), stop: () => child.kill() };
}

async function openConns(port) {
  const socks = [];
  for (let i = 0; i < CONNS; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    socks.push(s);
  }
  await Promise.all(socks.map((s) => once(s, 'connect')));
  return socks;
}

const turn = () => new Promise((r) => setImmediate(r));

/** Writes every frame to every socket, one per turn; `make` returns a per-connection compressor or null. */
async function run(socks, make) {
  const comps = socks.map((s) => {
    const z = make();
    if (z) z.on('data', (b) => s.write(b));
    return z;
  });
  let wire = 0;
  if (comps[0]) for (const z of comps) z.on('data', (b) => (wire += b.length));
  await turn();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let t = 0; t < TURNS; t++) {
    const f = frames[t];
    if (comps[0]) {
      // One write and one sync flush per connection per turn; the turn ends when every flush did.
      await Promise.all(comps.map((z) => new Promise((r) => { z.write(f); z.flush(zlib.constants.Z_SYNC_FLUSH, r); })));
    } else {
      for (const s of socks) s.write(f);
      wire += f.length * socks.length;
      await turn();
    }
  }
  // Everything handed to the kernel.
  await Promise.all(socks.map((s) => (s.writableLength === 0 ? null : once(s, 'drain'))));
  const cpu = process.cpuUsage(cpu0);
  const wallNs = Number(process.hrtime.bigint() - t0);
  for (const z of comps) z?.destroy();
  const events = TURNS * socks.length;
  return { wire, cpuUsPerEvent: (cpu.user + cpu.system) / events, wallNsPerEvent: wallNs / events };
}

/** zlib's own estimate of a deflate context: (1 << (windowBits + 2)) + (1 << (memLevel + 9)). */
const zmem = (windowBits, memLevel) => (1 << (windowBits + 2)) + (1 << (memLevel + 9));

const variants = [
  ['none', () => null, 0],
  ['gzip, level 6 (default)', () => zlib.createGzip(), zmem(15, 8)],
  ['deflate, level 6', () => zlib.createDeflate(), zmem(15, 8)],
  ['deflate, level 1', () => zlib.createDeflate({ level: 1 }), zmem(15, 8)],
  ['deflate, level 6, 8 KB window, memLevel 4', () => zlib.createDeflate({ windowBits: 13, memLevel: 4 }), zmem(13, 4)],
];

/**
 * The C floor (bench/compression-floor.c): deflate() + Z_SYNC_FLUSH per
 * event with no Node around it. Compiled here with the system's cc and
 * zlib; null (row left out) when either is missing.
 */
function floor(level, windowBits, memLevel) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-compression-'));
  try {
    const bin = path.join(dir, 'floor');
    const src = path.join(path.dirname(fileURLToPath(import.meta.url)), 'compression-floor.c');
    try {
      execFileSync('cc', ['-O2', '-o', bin, src, '-lz'], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      return null;
    }
    const file = path.join(dir, 'frames.bin');
    fs.writeFileSync(file, Buffer.concat(frames.flatMap((f) => { const h = Buffer.alloc(4); h.writeUInt32LE(f.length); return [h, f]; })));
    const runs = [];
    for (let r = 0; r < REPS; r++) {
      const [ns, bytes] = execFileSync(bin, [file, String(CONNS), String(level), String(windowBits), String(memLevel)], { timeout: 60_000 }).toString().trim().split(' ').map(Number);
      runs.push({ ns, bytes });
    }
    return { cpuUsPerEvent: median(runs.map((x) => x.ns)) / 1000, wire: median(runs.map((x) => x.bytes)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const sink = await startSink();
  const socks = await openConns(sink.port);
  const results = new Map(variants.map(([name]) => [name, []]));
  try {
    await run(socks, () => null); // warm-up
    for (let r = 0; r < REPS; r++) {
      for (const [name, make] of variants) results.get(name).push(await run(socks, make));
    }
  } finally {
    for (const s of socks) s.destroy();
    sink.stop();
  }
  const base = results.get('none');
  const baseCpu = median(base.map((x) => x.cpuUsPerEvent));
  const baseWire = median(base.map((x) => x.wire));
  console.log(`# Compression of a token stream: ${CONNS} connections x ${TURNS} events (one per turn), median of ${REPS}`);
  console.log(`\nEvent size: ${(rawBytesPerConn / TURNS).toFixed(0)} B on average (OpenAI chunk of 1-5 tokens). Node ${process.version}, zlib ${process.versions.zlib}.\n`);
  console.log('| variant | bytes on the wire | saved | CPU per event | CPU vs none | zlib memory per connection |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const verdicts = [];
  for (const [name, , mem] of variants) {
    const rs = results.get(name);
    const wire = median(rs.map((x) => x.wire));
    const cpu = median(rs.map((x) => x.cpuUsPerEvent));
    const saved = 1 - wire / baseWire;
    const ratio = cpu / baseCpu;
    console.log(`| ${name} | ${(wire / 1e6).toFixed(2)} MB | ${name === 'none' ? '—' : (saved * 100).toFixed(1) + ' %'} | ${cpu.toFixed(2)} µs | ${ratio.toFixed(2)}x | ${mem ? (mem / 1024).toFixed(0) + ' KB' : '—'} |`);
    if (name !== 'none') verdicts.push({ name, clears: saved >= 0.3 && ratio <= 2, saved, ratio });
  }
  // zlib alone, in C: compressed bytes only (the write of those bytes costs on top, as for 'none').
  for (const [name, level, wb, ml] of [['deflate level 6, in C (zlib only)', 6, 15, 8], ['deflate level 1, in C (zlib only)', 1, 15, 8], ['deflate level 1, 8 KB window, memLevel 4, in C', 1, 13, 4]]) {
    const fl = floor(level, wb, ml);
    if (fl === null) {
      console.log(`| ${name} | (no cc or zlib.h here) | | | | |`);
      continue;
    }
    const saved = 1 - fl.wire / baseWire;
    console.log(`| ${name} | ${(fl.wire / 1e6).toFixed(2)} MB | ${(saved * 100).toFixed(1)} % | +${fl.cpuUsPerEvent.toFixed(2)} µs | ${((baseCpu + fl.cpuUsPerEvent) / baseCpu).toFixed(2)}x (none + zlib) | ${(zmem(wb, ml) / 1024).toFixed(0)} KB |`);
    verdicts.push({ name, clears: saved >= 0.3 && (baseCpu + fl.cpuUsPerEvent) / baseCpu <= 2, saved });
  }
  const passing = verdicts.filter((v) => v.clears);
  console.log(
    `\nBar (save >= 30 % for <= 2x CPU): ${passing.length ? 'cleared by ' + passing.map((v) => v.name).join('; ') : 'not cleared by any variant'}.`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
