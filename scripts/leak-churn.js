// The Node-level churn that scripts/leak-check.sh runs under valgrind: every
// native object the addon makes, made and dropped many times, then a normal
// exit (so the addon's cleanup hooks run and whatever is still allocated is
// a leak, not a live object).
//
//   node --expose-gc scripts/leak-churn.js [--streams N] [--workers W] [--parsers P]
//
// - N streams over real sockets on node:http: adopted and res.write (adopt:
//   false) sinks, hub members, per-stream sends, broadcasts (object and
//   JSON forms), closes by the client, by the server, before the head,
//   pipelined pairs, and slow readers closed by the slow-consumer policy;
// - P parsers fed split chunks (invalid UTF-8, an over-long line past
//   maxBufferSize, reset with and without consume), then dropped for GC;
// - the encoders; web streams (createSSEStream() without res) read, then
//   cancelled or closed;
// - W Workers that load the addon, broadcast and feed, some terminated
//   mid-loop, some left to exit.
// Prints one JSON line of counts; exits 0 when everything it opened closed.
'use strict';
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { EventEmitter } = require('node:events');

const DIST = path.join(__dirname, '..', 'dist', 'index.js');
const lib = require(DIST);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? Number(argv[i + 1]) : dflt;
};
const STREAMS = opt('streams', 2000);
const WORKERS = opt('workers', 20);
const PARSERS = opt('parsers', 2000);
const BATCH = 50;

const counts = { opened: 0, closed: 0, slowClosed: 0, parsers: 0, events: 0, web: 0, workers: 0, reasons: {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Every wait is driven by what happened, not by time (valgrind runs ~30x
// slower), with a 60 s bound; slowGone emits a slow reader's id when the
// policy closed it.
const BOUND_MS = 60000;
const slowGone = new EventEmitter();
slowGone.setMaxListeners(0);

function subscribe(req, res) {
  const q = new URL(req.url, 'http://x').searchParams;
  const slow = q.get('slow') === '1';
  const opts = slow
    ? { heartbeatMs: 0, highWaterMark: 16 * 1024, maxBuffered: 64 * 1024 }
    : { heartbeatMs: 0, adopt: q.get('adopt') !== '0', retry: 1000 };
  const s = lib.createSSEStream(req, res, opts);
  if (s.closed) return;
  counts.opened++;
  lib.registerConnection(slow ? 'slow' : 'k', s);
  s.on('close', () => {
    counts.closed++;
    const why = (s.closeReason && s.closeReason.code) || 'closed';
    counts.reasons[why] = (counts.reasons[why] || 0) + 1;
    if (why === 'SSE_SLOW_CONSUMER') counts.slowClosed++;
    if (slow) slowGone.emit('gone', q.get('id'));
  });
  s.send({ event: 'hello', id: String(counts.opened), data: 'per-stream ' + counts.opened });
  s.send({ data: { n: counts.opened, list: [1, 2, 3] } });
  if (q.get('serverclose') === '1') setTimeout(() => s.close(), 5);
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/sub')) return subscribe(req, res);
  if (req.url === '/plain') return void res.end('plain');
  res.writeHead(404).end();
});
server.keepAliveTimeout = 0;

// One client connection: how = 'read' | 'early' | 'pipelined' | 'slow' | 'serverclose'.
function client(port, how, i) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    if (process.env.CHURN_DEBUG) sock.on('close', () => Date.now() - t0 > 3000 && console.error('slow client', how, i, Date.now() - t0));
    const adopt = i % 3 === 0 ? '&adopt=0' : '';
    const get = (q) => `GET /sub?${q} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`;
    sock.on('error', () => {});
    sock.on('close', resolve);
    if (how === 'early') {
      sock.write(get('a=1' + adopt));
      return void setImmediate(() => sock.destroy());
    }
    if (how === 'pipelined') sock.write(get('a=1' + adopt) + (i % 2 ? get('a=2') : 'GET /plain HTTP/1.1\r\nHost: x\r\n\r\n'));
    else if (how === 'slow') sock.write(get('slow=1&id=' + i));
    else if (how === 'serverclose') sock.write(get('serverclose=1' + adopt));
    else sock.write(get('a=1' + adopt));
    const bound = setTimeout(() => sock.destroy(), BOUND_MS);
    sock.on('close', () => clearTimeout(bound));
    if (how === 'slow') {
      sock.pause(); // never reads: leaves once the policy closed its stream
      const gone = (id) => {
        if (id !== String(i)) return;
        slowGone.off('gone', gone);
        sock.destroy();
      };
      return void slowGone.on('gone', gone);
    }
    let got = 0;
    let tail = '';
    sock.on('data', (d) => {
      got += d.length;
      tail = (tail + d.toString('latin1')).slice(-16);
      // A server close ends the socket (adopted) or the chunked body (res.write, keep-alive).
      if (how === 'serverclose' ? tail.includes('\r\n0\r\n\r\n') : got > 400) sock.destroy();
    });
  });
}

async function streams(port) {
  const kinds = ['read', 'read', 'early', 'pipelined', 'serverclose', 'read', 'slow'];
  const big = 'x'.repeat(32 * 1024);
  const tick = setInterval(() => {
    lib.broadcast('k', { event: 'b', data: 'broadcast ' + Date.now() });
    lib.broadcast('k', 'json', { t: Date.now(), s: 'é€😀' });
    lib.broadcast('slow', { data: big });
    counts.events += 3;
  }, 5);
  for (let i = 0; i < STREAMS; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(STREAMS, i + BATCH); j++) batch.push(client(port, kinds[j % kinds.length], j));
    await Promise.all(batch);
  }
  clearInterval(tick);
}

function parsers() {
  const chunks = ['data: a\n', 'data: b\r\n\r', '\nid: 1\nevent: e\nretry: 10\n\n', ': comment\n', 'data: \xff\xfe\n\n'];
  const bytes = Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xe2, 0x82, 0xff, 0x0a, 0x0a]);
  for (let i = 0; i < PARSERS; i++) {
    const p = lib.createParser({
      onEvent: () => counts.events++,
      onRetry: () => {},
      onComment: i % 2 ? () => {} : undefined,
      onError: () => {},
      maxBufferSize: 256,
    });
    for (const c of chunks) p.feed(c);
    p.feed(bytes.subarray(0, 7));
    p.feed(bytes.subarray(7));
    try {
      p.feed('data: ' + 'y'.repeat(1000)); // past maxBufferSize
    } catch {}
    p.reset({ consume: i % 2 === 0 });
    p.feed('data: after reset\n\n');
    lib.encodeEvent({ event: 'e', id: String(i), data: { i }, retry: 5 });
    lib.encodeNDJSON({ i, s: 'x' });
    counts.parsers++;
  }
}

async function webStreams() {
  for (let i = 0; i < 200; i++) {
    const w = lib.createSSEStream({ heartbeatMs: 0 }); // no res: a web stream
    lib.registerConnection('k', w.sse);
    w.send({ data: 'web ' + i });
    const reader = w.stream.getReader();
    await reader.read();
    if (i % 2) await reader.cancel();
    else {
      w.close();
      while (!(await reader.read()).done);
    }
    counts.web++;
  }
}

const WORKER_SRC = `
  const { parentPort, workerData } = require('node:worker_threads');
  const lib = require(workerData.dist);
  lib.registerConnection('w', () => {});
  const p = lib.createParser({ onEvent() {} });
  parentPort.postMessage('ready');
  if (workerData.loop) {
    for (;;) { lib.broadcast('w', 'e', { x: 1 }); p.feed('data: hello\\n\\n'); }
  } else {
    for (let i = 0; i < 200; i++) { lib.broadcast('w', 'e', { x: i }); p.feed('data: ' + i + '\\n\\n'); }
  }
`;
async function workers() {
  for (let i = 0; i < WORKERS; i++) {
    const w = new Worker(WORKER_SRC, { eval: true, workerData: { dist: DIST, loop: i % 2 === 0 } });
    await new Promise((r) => w.once('message', r));
    if (i % 2 === 0) {
      await sleep(5);
      await w.terminate();
    } else {
      await new Promise((r) => w.once('exit', r));
    }
    counts.workers++;
  }
}

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  parsers();
  await webStreams();
  await workers();
  await streams(port);
  for (let i = 0; i < BOUND_MS / 50 && counts.closed < counts.opened; i++) await sleep(50);
  await lib.closeAll(undefined, { timeoutMs: 2000 });
  await new Promise((r) => server.close(r));
  if (typeof global.gc === 'function') for (let i = 0; i < 3; i++) global.gc();
  await sleep(100);
  const ok = counts.closed === counts.opened && counts.slowClosed > 0;
  console.log(JSON.stringify({ ok, ...counts }));
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
