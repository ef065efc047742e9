// The demo: a chat streaming a (fake) model's tokens by POST, next to live
// charts of this server's own metrics, and a button that opens 1 000
// loopback connections to show the hub's fan-out.
//   npm start  ->  http://127.0.0.1:3000
// GET  /             the page (React + sse-native/react, bundled here: no CDN)
// POST /api/chat     { prompt } -> event: token ... data: [DONE]   (sse.pipe)
// GET  /api/metrics  an SSE stream of getMetrics() rates, twice a second
// POST /api/fanout   { connections, seconds } starts examples/demo/load.js
// GET  /fanout       the fan-out stream (key 'fanout', a broadcast every 50 ms)
// GET  /metrics      Prometheus text
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { fork } = require('node:child_process');
const { createSSEStream, broadcast, getConnectionCount, getMetrics, metricsText, closeAll } = require('sse-native');
const { generate } = require('../shared/fake-model');
const { readJson, sendJson, sendText } = require('../shared/http');
const { reactBundle } = require('../shared/bundle');

const page = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');
const app = fs.readFileSync(path.join(__dirname, 'app.js'), 'utf8');
const now = () => performance.timeOrigin + performance.now();

/**
 * Builds the demo server. `tokenMs`/`firstTokenMs` set the model's pace,
 * `sampleMs` the metrics period, `tickMs` the fan-out broadcast period.
 * `server.stopDemo()` stops the timers and the load process.
 */
function createServer({ tokenMs = 28, firstTokenMs = 320, sampleMs = 500, tickMs = 50 } = {}) {
  // --- fan-out: one load process at a time, started by the button -----------
  let load = null; // { child, target, connected, events, p50, p99, max, until }
  let lastDelay = { p50: null, p99: null };
  const startLoad = (port, connections, seconds) => {
    const child = fork(path.join(__dirname, 'load.js'), [String(port), String(connections), String(seconds)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const state = { child, target: connections, connected: 0, events: 0, p50: null, p99: null, max: null, until: Date.now() + seconds * 1000 };
    load = state;
    child.on('message', (m) => {
      Object.assign(state, m);
      if (m.p50 !== null) lastDelay = { p50: m.p50, p99: m.p99 };
    });
    child.on('exit', () => {
      if (load === state) load = null;
    });
  };
  // While anyone listens on 'fanout': a timestamp every tick, encoded once, written to every member by the core.
  const ticker = setInterval(() => {
    if (getConnectionCount('fanout') > 0) broadcast('fanout', { data: now().toFixed(3) });
  }, tickMs);
  ticker.unref();

  // --- metrics: rates from getMetrics() deltas, pushed over SSE --------------
  const watchers = new Set();
  let prev = { ...getMetrics(), at: Date.now() };
  const sampler = setInterval(() => {
    if (watchers.size === 0) return void (prev = { ...getMetrics(), at: Date.now() });
    const m = getMetrics();
    const at = Date.now();
    const secs = Math.max((at - prev.at) / 1000, 0.001);
    const sample = {
      t: at,
      connections: m.connections,
      eventsPerSec: Math.round((m.eventsSent - prev.eventsSent) / secs),
      bytesPerSec: Math.round((m.bytesSent - prev.bytesSent) / secs),
      delayP50: load ? load.p50 : null,
      delayP99: load ? load.p99 : null,
      lastDelay,
      fanout: load ? { target: load.target, connected: load.connected, events: load.events, secondsLeft: Math.max(0, Math.round((load.until - at) / 1000)) } : null,
      rssMB: Math.round(process.memoryUsage().rss / 1048576),
    };
    prev = { ...m, at };
    for (const sse of watchers) sse.send({ data: sample });
  }, sampleMs);
  sampler.unref();

  const server = http.createServer(async (req, res) => {
    const url = req.url.split('?')[0];
    if (req.method === 'GET' && (url === '/' || url === '/index.html')) return sendText(res, 'text/html', page);
    if (req.method === 'GET' && url === '/app.js') return sendText(res, 'text/javascript', app);
    if (req.method === 'GET' && url === '/bundle.js') return sendText(res, 'text/javascript', reactBundle());
    if (req.method === 'GET' && url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      return res.end(metricsText());
    }
    if (req.method === 'GET' && url === '/fanout') return void createSSEStream(req, res, { key: 'fanout' });
    if (req.method === 'GET' && url === '/api/metrics') {
      const sse = createSSEStream(req, res, { retry: 1000 });
      watchers.add(sse);
      sse.once('close', () => watchers.delete(sse));
      return;
    }
    if (req.method === 'POST' && url === '/api/fanout') {
      let body;
      try {
        body = await readJson(req);
      } catch (err) {
        return sendJson(res, err.status ?? 400, { error: err.message });
      }
      if (load) return sendJson(res, 409, { error: 'a fan-out is already running', target: load.target });
      const connections = Math.min(Math.max(Number(body.connections) || 1000, 1), 5000);
      const seconds = Math.min(Math.max(Number(body.seconds) || 20, 1), 120);
      startLoad(server.address().port, connections, seconds);
      return sendJson(res, 202, { connections, seconds, pid: load.child.pid });
    }
    if (req.method === 'POST' && url === '/api/chat') {
      let body;
      try {
        body = await readJson(req);
      } catch (err) {
        return sendJson(res, err.status ?? 400, { error: err.message });
      }
      const sse = createSSEStream(req, res);
      const stats = {};
      const result = await sse.pipe(generate(body.prompt, { signal: sse.signal, tokenMs, firstTokenMs, stats }), {
        event: 'token',
        done: '[DONE]',
      });
      if (result.reason === 'client-left') console.log(`chat: client left after ${stats.tokens} tokens; generation stopped`);
      return sse.close();
    }
    sendJson(res, 404, { error: `no route ${req.method} ${url}` });
  });

  server.stopDemo = () => {
    clearInterval(ticker);
    clearInterval(sampler);
    if (load && load.child.exitCode === null) load.child.kill();
    load = null;
  };
  server.on('close', server.stopDemo);
  return server;
}

module.exports = { createServer };

if (require.main === module) {
  const PORT = Number(process.env.PORT || 3000);
  const HOST = process.env.HOST || '127.0.0.1';
  const server = createServer();
  server.listen(PORT, HOST, () => console.log(`sse-native demo on http://${HOST}:${PORT}`));
  // Adopted streams are not Node's any more: end them on shutdown.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
      server.stopDemo();
      server.close();
      // Settles once every client has the last event (or after 10 s).
      await closeAll({ event: 'bye', data: 'server shutting down' });
      process.exit(0);
    });
  }
}
