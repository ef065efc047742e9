// Hono on @hono/node-server: a fetch-style handler returning sseResponse().
//   npm run build && node examples/hono/server.js  ->  curl -N http://127.0.0.1:3004/events
'use strict';
const { Hono } = require('hono');
const { serve } = require('@hono/node-server');
const { createSSEStream, sseResponse } = require('sse-native');

const TEXT = 'Hello from Hono: a ReadableStream of frames the C++ core encoded.';

/** Builds the Hono app; `intervalMs` is the pause between tokens. */
function createApp({ intervalMs = 100 } = {}) {
  const app = new Hono();
  app.get('/events', (c) => {
    // `request` gives Last-Event-ID and aborts the stream when the client leaves.
    const { stream, send, close, sse } = createSSEStream({ request: c.req.raw, retry: 3000 });
    const words = TEXT.split(' ');
    let i = Number(sse.lastEventId ?? 0) || 0;
    const timer = setInterval(() => {
      if (i >= words.length) {
        send({ event: 'done', data: {} });
        close();
        return;
      }
      i++;
      send({ event: 'chunk', id: String(i), data: { content: words[i - 1] + ' ' } });
    }, intervalMs);
    sse.signal.addEventListener('abort', () => clearInterval(timer));
    return sseResponse(stream, { headers: { 'Access-Control-Allow-Origin': '*' } });
  });
  return app;
}

module.exports = { createApp };

if (require.main === module) {
  const port = Number(process.env.PORT || 3004);
  serve({ fetch: createApp().fetch, port, hostname: '127.0.0.1' }, () => console.log(`http://127.0.0.1:${port}/events`));
}
