// The demo: an LLM-like token stream over Server-Sent Events, broadcast by
// the hub to every open page (open two tabs), with replay on reconnect.
//   npm start  ->  http://127.0.0.1:3000
// GET /         a page that shows tokens as they arrive
// GET /events   the stream: the C++ core adopts the socket, joins key 'demo'
// GET /metrics  Prometheus text
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { createSSEStream, broadcast, configureKey, getConnectionCount, metricsText, closeAll } = require('../../dist');

const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';
const page = fs.readFileSync(path.join(__dirname, 'index.html'));

const TEXT =
  'Server-Sent Events are plain HTTP: the server keeps the response open and writes ' +
  'lines that start with data:, and the browser turns each blank-line-terminated block ' +
  'into a message event. sse-native encodes those frames in C++ — UTF-8 stays intact, ' +
  'emoji too: 🚀✨ — and reconnecting clients send Last-Event-ID to resume. ';

// Splits text into word-ish tokens the way a model streams them.
function tokens(text) {
  return text.match(/\s*\S+/gu) || [];
}

// One generator for everybody: a token every 60 ms while anyone listens.
// The key keeps the last 500 events, so a page that reconnects (it sends
// Last-Event-ID) first gets what it missed.
configureKey('demo', { replay: { maxEvents: 500 } });
const words = tokens(TEXT);
let next = 0;
setInterval(() => {
  if (getConnectionCount('demo') === 0) return;
  if (next >= words.length) {
    broadcast('demo', 'done', '[DONE]');
    next = 0;
    return;
  }
  broadcast('demo', 'token', { token: words[next], index: next });
  next++;
}, 60).unref();

function stream(req, res) {
  const sse = createSSEStream(req, res, { key: 'demo', resume: true, retry: 2000 });
  sse.comment('sse-native demo');
}

const server = http.createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  } else if (req.url.startsWith('/events')) {
    stream(req, res);
  } else if (req.url === '/metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(metricsText());
  } else {
    res.writeHead(404).end('not found\n');
  }
});

server.listen(PORT, HOST, () => {
  console.log(`sse-native demo on http://${HOST}:${PORT}`);
});

// Adopted streams are not Node's any more: end them on shutdown.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    closeAll({ event: 'done', data: 'server shutting down' });
    server.close(() => process.exit(0));
  });
}
