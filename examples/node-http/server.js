// Plain node:http: one handler, no framework.
//   npm run build && node examples/node-http/server.js  ->  curl -N http://127.0.0.1:3003/events
'use strict';
const http = require('node:http');
const { createSSEStream, closeAll } = require('sse-native');

const TEXT = 'Hello from node:http: the core adopts the socket and writes each event itself.';

/** Builds the server (not listening); `intervalMs` is the pause between tokens. */
function createServer({ intervalMs = 100 } = {}) {
  return http.createServer((req, res) => {
    if (req.url !== '/events' && !req.url.startsWith('/events?')) {
      res.writeHead(404).end();
      return;
    }
    const sse = createSSEStream(req, res, { retry: 3000, headers: { 'Access-Control-Allow-Origin': '*' } });
    const words = TEXT.split(' ');
    let i = Number(sse.lastEventId ?? 0) || 0;
    const timer = setInterval(() => {
      if (i >= words.length) {
        sse.send({ event: 'done', data: {} });
        sse.close();
        return;
      }
      i++;
      sse.send({ event: 'chunk', id: String(i), data: { content: words[i - 1] + ' ' } });
    }, intervalMs);
    sse.signal.addEventListener('abort', () => clearInterval(timer));
  });
}

module.exports = { createServer };

if (require.main === module) {
  const port = Number(process.env.PORT || 3003);
  const server = createServer().listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/events`));
  process.on('SIGINT', () => {
    closeAll(); // server.close() does not wait for adopted streams
    server.close();
  });
}
