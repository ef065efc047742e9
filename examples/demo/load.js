// The demo's fan-out load: a separate process (started by the page's
// button through the server, stopped by pid or when its time is up) that
// opens N loopback connections to GET /fanout and measures, for each event,
// the delay from the server's broadcast to its arrival here. Reports over
// IPC every 250 ms: { connected, events, p50, p99, max } (delays in ms).
// Browsers allow 6 HTTP/1.1 connections per host, so the 1 000 live here.
'use strict';
const net = require('node:net');
const { createParser } = require('sse-native');

const port = Number(process.argv[2]);
const count = Number(process.argv[3] || 1000);
const seconds = Number(process.argv[4] || 20);
const now = () => performance.timeOrigin + performance.now();

let connected = 0;
let events = 0;
let delays = [];
const sockets = [];

function open(i) {
  const sock = net.connect(port, '127.0.0.1');
  sockets.push(sock);
  let head = true;
  let pending = '';
  const parser = createParser({
    onEvent: (ev) => {
      events++;
      // Every 10th connection samples delays: enough for percentiles, cheap.
      if (i % 10 === 0) delays.push(now() - Number(ev.data));
    },
  });
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write(`GET /fanout HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`));
  sock.on('data', (text) => {
    if (head) {
      pending += text;
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = false;
      connected++;
      text = pending.slice(end + 4);
      pending = '';
    }
    // Adopted streams are not chunked (the core writes the body raw).
    parser.feed(text);
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    if (!head) connected--;
  });
}

// Open in batches so the accept queue never overflows.
let opened = 0;
(function batch() {
  for (let k = 0; k < 100 && opened < count; k++) open(opened++);
  if (opened < count) setTimeout(batch, 10);
})();

function pct(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const report = setInterval(() => {
  const sorted = delays.sort((a, b) => a - b);
  delays = [];
  process.send?.({ connected, events, p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1] : null });
}, 250);

function stop() {
  clearInterval(report);
  for (const s of sockets) s.destroy();
  process.send?.({ connected: 0, events, p50: null, p99: null, max: null, done: true });
  setTimeout(() => process.exit(0), 50);
}
setTimeout(stop, seconds * 1000);
process.on('disconnect', stop);
process.on('SIGTERM', stop);
