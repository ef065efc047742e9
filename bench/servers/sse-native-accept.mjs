// sse-native with the core's own listener (listenSSE): the core accepts
// each connection and parses its head; no Node HTTP objects are made per
// connection. The same routes as every server under test (common.mjs):
// /sub joins the hub key with req.subscribe() (no JS object per stream;
// the single-stream scenario then broadcasts to its one member), or, with
// `--stream`, req.accept() keeps an SSEStream per stream in a Set as the
// adopted server does; /publish and /stats are answered with req.respond().
//   node bench/servers/sse-native-accept.mjs <port> [--stream]
import { createRequire } from 'node:module';
import { portArg, publisher, stopOnSignals } from './common.mjs';

const lib = createRequire(import.meta.url)('../../dist/index.js');
const KEY = 'bench';
const handles = process.argv.includes('--stream');
const subs = new Set();
// As the adopted server's: no slow-consumer policy fires in a burst.
const opts = { heartbeatMs: 0, highWaterMark: 64 << 20, maxBuffered: 1 << 30, key: KEY };

const impl = {
  name: handles ? 'sse-native-accept-stream' : 'sse-native-accept',
  fanout: () => 'hub-msg',
  count: () => (handles ? subs.size : lib.getConnectionCount(KEY)),
  deliver(data) {
    if (handles && subs.size === 1) {
      for (const s of subs) s.send({ data });
      return;
    }
    lib.broadcast(KEY, { data });
  },
};
const { publish, statsBody } = publisher(impl);

const server = await lib.listenSSE({ host: '127.0.0.1', port: portArg(), backlog: 4096, maxPending: 1 << 16, headTimeoutMs: 60000 }, (req) => {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  if (path === '/sub') {
    if (!handles) return void req.subscribe(opts);
    const s = req.accept(opts);
    if (s.closed) return;
    subs.add(s);
    s.on('close', () => subs.delete(s));
    return;
  }
  if (path === '/publish') {
    req.respond(202, '{"ok":true}', { 'content-type': 'application/json' });
    publish(params);
    return;
  }
  if (path === '/stats') {
    req.respond(200, statsBody(params), { 'content-type': 'application/json' });
    return;
  }
  req.respond(404);
});
if (server.engine !== 'core') process.stderr.write(`sse-native-accept bench server: engine ${server.engine}, not core\n`);
process.stdout.write(`LISTENING ${server.port}\n`);
stopOnSignals();
