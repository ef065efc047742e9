// Fastify: hijack the reply, then stream on the raw request/response.
//   npm run build && node examples/fastify/server.js  ->  curl -N http://127.0.0.1:3002/events
'use strict';
const Fastify = require('fastify');
const { createSSEStream, closeAll } = require('sse-native');

const TEXT = 'Hello from Fastify: reply.hijack() hands the socket to sse-native.';

/** Builds the app (not listening); `intervalMs` is the pause between tokens. */
function createApp({ intervalMs = 100 } = {}) {
  const app = Fastify();
  app.get('/events', (request, reply) => {
    reply.hijack();
    // Headers set with reply.header() are not sent after a hijack: use reply.raw.
    reply.raw.setHeader('Access-Control-Allow-Origin', '*');
    const sse = createSSEStream(request.raw, reply.raw, { retry: 3000 });
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
  app.addHook('onClose', async () => closeAll());
  return app;
}

module.exports = { createApp };

if (require.main === module) {
  const port = Number(process.env.PORT || 3002);
  const app = createApp();
  app.listen({ port, host: '127.0.0.1' }).then((url) => console.log(`${url}/events`));
  process.on('SIGINT', () => app.close());
}
