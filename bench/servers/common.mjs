// The part every server under test shares: routing, the payload, pacing and
// /stats, so the servers differ only in how they subscribe and deliver.
//
//   GET  /sub                                    subscribe (an SSE response that stays open)
//   GET|POST /publish?n=M&bytes=B&rate=R&mode=burst|turn&per=K
//        M events with B-byte data; burst: all M in one loop turn; turn: K
//        events (default 1) per loop turn via setImmediate; rate: R events/s
//        paced by timers (overrides mode). Answers at once (202); the
//        publishing runs after.
//   GET  /stats[?gc=1]                           { name, fanout, connections, rss, cpu_us,
//        cpu_user_us, cpu_sys_us, published, publishing } (gc=1 runs a full GC first
//        when node was started with --expose-gc)
//
// Payload: `t=<process.hrtime.bigint()>` then '.' up to B bytes, so the load
// generator reads the send time (CLOCK_MONOTONIC ns) from every event.
import http from 'node:http';

const PAD = '.'.repeat(1 << 16);

/** The data of one event: send timestamp, padded to `bytes`. */
export function payload(bytes) {
  const s = 't=' + process.hrtime.bigint();
  return s.length >= bytes ? s : s + PAD.slice(0, bytes - s.length);
}

/**
 * Paced publishing: calls `one()` for each of `n` events at `rate` per
 * second (each timer sends what is due, then sleeps until the next one is
 * due: no fixed 1 ms tick, so idle wakeups do not inflate CPU), then
 * `finish()`. `sent()` says how many `one()` has started.
 */
export function paced(n, rate, one, sent, finish) {
  const t0 = process.hrtime.bigint();
  const tick = () => {
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const due = Math.min(n, Math.floor((elapsedMs / 1000) * rate) + 1);
    while (sent() < due) one();
    if (sent() >= n) return finish();
    setTimeout(tick, Math.max(0, (sent() / rate) * 1000 - elapsedMs));
  };
  tick();
}

/**
 * Starts the server. `impl` = { name, subscribe(req, res), deliver(payload),
 * count(), fanout() }. `deliver` sends one event to every subscriber.
 */
export function serve(impl, port) {
  const { publish, statsBody } = publisher(impl);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/sub') return impl.subscribe(req, res);
    if (url.pathname === '/publish') {
      req.resume();
      req.on('end', () => {
        publish(url.searchParams);
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
      return;
    }
    if (url.pathname === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(statsBody(url.searchParams));
      return;
    }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.maxConnections = Infinity;
  server.listen(port, '127.0.0.1', 4096, () => {
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });
  stopOnSignals();
  return server;
}

/** Exits on SIGTERM / SIGINT. */
export function stopOnSignals() {
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * /publish and /stats for any transport: publish(searchParams) starts the
 * publishing; statsBody(searchParams) is the /stats JSON.
 */
export function publisher(impl) {
  let published = 0;
  let publishing = 0;

  function publish(q) {
    const n = Math.max(0, Number(q.get('n') ?? 1));
    const bytes = Math.max(1, Number(q.get('bytes') ?? 64));
    const rate = Number(q.get('rate') ?? 0);
    const mode = q.get('mode') ?? 'burst';
    const per = Math.max(1, Number(q.get('per') ?? 1));
    let sent = 0;
    publishing++;
    const one = () => {
      impl.deliver(payload(bytes));
      sent++;
      published++;
    };
    const finish = () => publishing--;
    if (rate > 0) {
      paced(n, rate, one, () => sent, finish);
    } else if (mode === 'turn') {
      const step = () => {
        for (let i = 0; i < per && sent < n; i++) one();
        if (sent < n) setImmediate(step);
        else finish();
      };
      setImmediate(step);
    } else {
      setImmediate(() => {
        while (sent < n) one();
        finish();
      });
    }
  }

  function statsBody(q) {
    if (q.get('gc') === '1' && typeof globalThis.gc === 'function') globalThis.gc();
    const c = process.cpuUsage();
    return JSON.stringify({
      name: impl.name,
      fanout: impl.fanout(),
      pid: process.pid,
      connections: impl.count(),
      rss: process.memoryUsage.rss(),
      cpu_us: c.user + c.system,
      cpu_user_us: c.user,
      cpu_sys_us: c.system,
      published,
      publishing,
    });
  }

  return { publish, statsBody };
}

/** The port from argv (0: any). */
export const portArg = () => Number(process.argv[2] ?? 0);
