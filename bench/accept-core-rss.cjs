// Idle RSS per connection through the core's own listener, the binding
// alone (no lib/ stream objects): a child server accepts each request into
// a held member that joins one hub key; this process opens N idle clients
// (their memory is not the server's) and asks the server for its RSS after
// two GCs at 1 000, 10 000 and 19 000 connections. Needs `npm run build`
// and ulimit -n above 19 100 in both processes.
//   node bench/accept-core-rss.cjs
'use strict';
const { fork } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

if (process.argv[2] === 'server') {
  const { native, C } = require(path.join(__dirname, '..', 'dist', 'native', 'binding.js'));
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n');
  const opts = { highWaterMark: 65536, maxBuffered: 1 << 20, policy: 0, heartbeatMs: 15000, idleTimeoutMs: 0, maxDurationMs: 0 };
  let accepted = 0;
  native.setNotify((r, n) => {
    for (let i = 0; i < n; i++) {
      if (r[i * 3 + 1] !== C.Notify.REQUEST) continue;
      const pid = r[i * 3];
      if (native.requestHead(pid) === undefined) continue;
      const id = native.open(opts);
      native.hubJoin('k', id, undefined);
      if (native.acceptRequest(pid, id, head) === 0) accepted++;
    }
  });
  const lid = native.listen('127.0.0.1', 0, 4096, 8192, 10000, 4096);
  const rss = () => {
    global.gc();
    global.gc();
    return Number(/VmRSS:\s+(\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
  };
  process.on('message', () => setTimeout(() => process.send({ rss: rss(), accepted, stats: native.listenerStats(lid) }), 500));
  process.send({ port: native.listenerAddress(lid)[1] });
  return;
}

const server = fork(__filename, ['server'], { execArgv: ['--expose-gc'] });
const ask = () => new Promise((resolve) => { server.once('message', resolve); server.send('rss'); });
const sockets = [];
function open(port, n) {
  return new Promise((resolve) => {
    let answered = 0;
    let i = 0;
    const step = () => {
      for (let k = 0; k < 200 && i < n; k++, i++) {
        const c = net.connect(port, '127.0.0.1', () => c.write('GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n'));
        c.once('data', () => { if (++answered === n) resolve(); });
        c.on('error', (e) => console.error(e.message));
        sockets.push(c);
      }
      if (i < n) setTimeout(step, 5);
    };
    step();
  });
}
server.once('message', async ({ port }) => {
  await new Promise((r) => setTimeout(r, 300));
  const base = (await ask()).rss;
  console.log(`server RSS with no connection: ${base} KB`);
  let prev = base;
  let prevN = 0;
  for (const n of [1000, 10000, 19000]) {
    await open(port, n - prevN);
    const m = await ask();
    const avg = ((m.rss - base) * 1024) / n;
    const marginal = ((m.rss - prev) * 1024) / (n - prevN);
    console.log(`${n} idle (${m.accepted} accepted): RSS ${m.rss} KB, ${avg.toFixed(0)} B/connection average, ${marginal.toFixed(0)} B marginal`);
    prev = m.rss;
    prevN = n;
  }
  for (const c of sockets) c.destroy();
  server.kill();
  process.exit(0);
});
