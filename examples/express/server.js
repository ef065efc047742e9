// Express: GET /events streams a reply token by token, then `done`.
//   npm run build && node examples/express/server.js  ->  curl -N http://127.0.0.1:3001/events
// Reconnecting with Last-Event-ID resumes after that token.
'use strict';
const express = require('express');
const { createSSEStream, closeAll } = require('sse-native');

const TEXT = 'Hello from Express: each word is one Server-Sent Event, encoded by the C++ core.';

/** Builds the app; `intervalMs` is the pause between tokens. */
function createApp({ intervalMs = 100 } = {}) {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*'); // kept in the SSE response head
    next();
  });
  app.get('/events', (req, res) => {
    const sse = createSSEStream(req, res, { retry: 3000, heartbeatMs: 15000 });
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
    // The stream's signal, not req.on('close'): an adopted socket is no longer Node's.
    sse.signal.addEventListener('abort', () => clearInterval(timer));
  });
  return app;
}

module.exports = { createApp };

if (require.main === module) {
  const port = Number(process.env.PORT || 3001);
  const server = createApp().listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/events`));
  process.on('SIGINT', () => {
    closeAll();
    server.close();
  });
}
