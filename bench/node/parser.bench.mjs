// createParser (native, fed bytes) against eventsource-parser behind a
// streaming TextDecoder (how people run it), 1 MB fed in 4 KB chunks, and
// encodeEvent against a plain template string. Same process, same run;
// prints a markdown table with ratios.
//   node bench/node/parser.bench.mjs [--json]
import { createRequire } from 'node:module';
import { createParser as referenceParser } from 'eventsource-parser';

const require = createRequire(import.meta.url);
const { createParser, encodeEvent } = require('../../dist/index.js');

const MB = 1 << 20;
const CHUNK = 4096;

function streamOf(frame) {
  const one = Buffer.from(frame);
  const n = Math.ceil(MB / one.length);
  const all = Buffer.alloc(n * one.length);
  for (let i = 0; i < n; i++) one.copy(all, i * one.length);
  const chunks = [];
  for (let o = 0; o < all.length; o += CHUNK) chunks.push(new Uint8Array(all.subarray(o, o + CHUNK)));
  return { chunks, bytes: all.length, events: n };
}

const token = streamOf('data: {"choices":[{"delta":{"content":" token"}}]}\n\n');
const big = streamOf(`event: doc\nid: 1\ndata: ${'{"k":"' + 'lorem ipsum dolor '.repeat(226) + '"}'}\n\n`);

// Runs fn over the stream repeatedly for ~ms and returns the best MB/s and events/s.
function measure(fn, s, ms = 1500) {
  for (let i = 0; i < 5; i++) fn(s);
  let best = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    const got = fn(s);
    const dt = (performance.now() - t0) / 1000;
    if (got !== s.events) throw new Error(`expected ${s.events} events, got ${got}`);
    best = Math.max(best, s.bytes / dt);
  }
  return { mbps: best / 1e6, evps: (best / s.bytes) * s.events };
}

function ours(s) {
  let n = 0;
  const p = createParser({ onEvent: () => n++ });
  for (const c of s.chunks) p.feed(c);
  return n;
}

function reference(s) {
  let n = 0;
  const p = referenceParser({ onEvent: () => n++ });
  const dec = new TextDecoder();
  for (const c of s.chunks) p.feed(dec.decode(c, { stream: true }));
  return n;
}

function encodeRate(fn, n = 200000) {
  for (let i = 0; i < 20000; i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return best;
}

const rows = [];
for (const [name, s] of [['token stream (57 B events)', token], ['4 KB events', big]]) {
  const a = measure(ours, s);
  const b = measure(reference, s);
  rows.push({ name, ours: a, ref: b });
}
const tok = { t: 'Hello, world!!!!' };
const encOurs = encodeRate((i) => encodeEvent({ data: tok }));
const encTmpl = encodeRate((i) => `data: ${JSON.stringify(tok)}\n\n`);
const encTmplBuf = encodeRate((i) => Buffer.from(`data: ${JSON.stringify(tok)}\n\n`));
const encStr = encodeRate((i) => encodeEvent({ data: '{"t":"Hello, world!!!!"}' }));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ rows, encode: { encOurs, encStr, encTmpl, encTmplBuf } }));
} else {
  console.log('| parse, 1 MB in 4 KB chunks | sse-native createParser (bytes) | eventsource-parser + TextDecoder | ratio |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.ours.mbps.toFixed(0)} MB/s, ${(r.ours.evps / 1e6).toFixed(2)} M ev/s | ` +
        `${r.ref.mbps.toFixed(0)} MB/s, ${(r.ref.evps / 1e6).toFixed(2)} M ev/s | ${(r.ours.mbps / r.ref.mbps).toFixed(2)}x |`,
    );
  }
  console.log();
  console.log('| encode a 32-byte token event | ns/event |');
  console.log('|---|---|');
  console.log(`| encodeEvent({ data: object }) -> Buffer | ${encOurs.toFixed(0)} |`);
  console.log(`| encodeEvent({ data: string }) -> Buffer | ${encStr.toFixed(0)} |`);
  console.log(`| template string (JS string only) | ${encTmpl.toFixed(0)} |`);
  console.log(`| template string + Buffer.from | ${encTmplBuf.toFixed(0)} |`);
}
