// The demo: an LLM-like token stream over Server-Sent Events.
//   npm start  ->  http://127.0.0.1:3000
// GET /        a page that shows tokens as they arrive
// GET /events  the stream (encoded by sse-native's core)
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { encodeEvent } = require('../../dist');

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

function stream(req, res) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  const words = tokens(TEXT);
  let i = Number(req.headers['last-event-id'] || 0) || 0;
  res.write(encodeEvent({ retry: 2000, comment: 'sse-native demo' }));
  const timer = setInterval(() => {
    if (i >= words.length) {
      res.write(encodeEvent({ event: 'done', data: '[DONE]', id: String(i) }));
      i = 0;
      return;
    }
    res.write(encodeEvent({ event: 'token', data: { token: words[i], index: i }, id: String(i + 1) }));
    i++;
  }, 60);
  req.on('close', () => clearInterval(timer));
}

const server = http.createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  } else if (req.url.startsWith('/events')) {
    stream(req, res);
  } else {
    res.writeHead(404).end('not found\n');
  }
});

server.listen(PORT, HOST, () => {
  console.log(`sse-native demo on http://${HOST}:${PORT}`);
});
