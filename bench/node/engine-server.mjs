// A server under test for bench/node/engine.bench.mjs. One of:
//   adopted   createSSEStream (the core owns the socket)
//   fallback  createSSEStream({ adopt: false }) (res.write under our stream)
//   raw       a plain node:http res.write loop with template strings
// GET /stream?n=N&how=turn|burst  N 32-byte events, one per loop turn or all in one turn
// GET /idle                       an SSE response that stays open and silent
// GET /stats                      { rss, cpu (user+system µs), open }
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createSSEStream } = require('../../dist/index.js');
const mode = process.argv[2] ?? 'adopted';
const TOKEN = '{"t":"Hello, world!!!!"}'; // data: + 24 bytes + \n\n = 32 bytes
let open = 0;

// Module-level: a listener that closed over the handler's scope would keep
// req, res and Node's socket alive and be charged to the connection.
function onStreamClose() {
  open--;
}

// Opens the stream; returns [send, close] for the streaming endpoints.
function start(req, res) {
  open++;
  if (mode === 'raw') {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
    });
    res.flushHeaders();
    res.on('close', onStreamClose);
    return res;
  }
  const s = createSSEStream(req, res, { adopt: mode === 'adopted', heartbeatMs: 0, maxBuffered: 64 << 20, highWaterMark: 64 << 20 });
  s.on('close', onStreamClose);
  return s;
}

const sendOne = mode === 'raw' ? (res) => res.write(`data: ${TOKEN}\n\n`) : (s) => s.send({ data: TOKEN });
const closeOne = mode === 'raw' ? (res) => res.end() : (s) => s.close();

function stream(s, n, burst) {
  if (burst) {
    for (let i = 0; i < n; i++) sendOne(s);
    closeOne(s);
    return;
  }
  let i = 0;
  const step = () => {
    sendOne(s);
    if (++i < n) setImmediate(step);
    else closeOne(s);
  };
  setImmediate(step);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/stats') {
    const c = process.cpuUsage();
    res.end(JSON.stringify({ rss: process.memoryUsage.rss(), cpu: c.user + c.system, open }));
    return;
  }
  if (url.pathname === '/idle') {
    start(req, res);
    return;
  }
  stream(start(req, res), Number(url.searchParams.get('n') ?? 1000), url.searchParams.get('how') === 'burst');
});
server.keepAliveTimeout = 0;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'exit') process.exit(0);
  if (m === 'gc') {
    // Garbage from the requests that set the connections up is not what a
    // connection costs: collect it before RSS is read.
    globalThis.gc?.();
    globalThis.gc?.();
    setTimeout(() => process.send({ gc: true, mem: process.memoryUsage() }), 100);
  }
});
