// Anchor: nginx + nchan (Debian's nginx-light + libnginx-mod-nchan), driven
// through the same /sub, /publish and /stats contract as the other servers.
//   node bench/servers/nchan.mjs <port>
//
// This script writes an nginx.conf into a temporary prefix and runs nginx
// there (master + one worker, `daemon off`, as the current user), listening
// on <port> (0: a free one). nginx inherits this process's CPU pinning (CPU 0
// in bench/run.mjs); once nginx is up, this driver moves itself to CPU 1 (the
// load generator's), so CPU 0 holds nginx alone, as it holds the Node servers.
//
//   GET /sub      nchan_subscriber eventsource on channel "bench" (nginx)
//   /publish      proxied by nginx to this driver, which answers 202 and then
//                 publishes each event as an HTTP POST to nginx's nchan
//                 publisher location (keep-alive): mode=turn keeps `per`
//                 (default 1) in flight, the next sent when one answered;
//                 burst keeps 32 in flight; rate=R paces them with timers
//                 like common.mjs.
//   /stats        proxied to this driver: the nginx worker's pid (its
//                 schedstat is the "noise" row), CPU of master + worker from
//                 /proc/<pid>/stat, RSS of both, subscribers from
//                 nchan_stub_status.
//
// Payload: `t=<process.hrtime.bigint()>` padded to the byte count, taken when
// the POST is sent, so latency includes nginx taking the publish.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { paced, payload, portArg } from './common.mjs';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const NCHAN_SO = process.env.NCHAN_MODULE ?? '/usr/lib/nginx/modules/ngx_nchan_module.so';
for (const [what, p] of [
  ['nginx', NGINX],
  ['nchan module', NCHAN_SO],
]) {
  if (!fs.existsSync(p)) {
    process.stderr.write(`nchan bench server: ${what} not found at ${p}; install Debian's nginx-light and libnginx-mod-nchan (scripts/ensure-deps.sh --bench)\n`);
    process.exit(2);
  }
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-bench-nchan-'));
const wantPort = portArg();
const nginxPort = wantPort || (await freePort());

// The driver: /publish and /stats, behind nginx's proxy.
const driver = http.createServer(onDriverRequest);
driver.keepAliveTimeout = 0;
await new Promise((r) => driver.listen(0, '127.0.0.1', r));
const driverPort = driver.address().port;

const user = os.userInfo();
const conf = `
load_module ${NCHAN_SO};
${user.uid === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events {
  worker_connections 20000;
  use epoll;
  multi_accept on;
}
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  tcp_nodelay on;
  keepalive_timeout 600s;
  keepalive_requests 10000000;
  nchan_max_reserved_memory 256M;
  server {
    listen 127.0.0.1:${nginxPort} backlog=4096;
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id bench;
      nchan_subscriber_first_message newest;
      nchan_subscriber_timeout 0;
      nchan_eventsource_ping_interval 0;
    }
    location = /pub {
      nchan_publisher;
      nchan_channel_id bench;
      nchan_message_buffer_length 16;
      nchan_message_timeout 60s;
    }
    location = /nchan_status {
      nchan_stub_status;
    }
    location = /publish {
      proxy_pass http://127.0.0.1:${driverPort};
    }
    location = /stats {
      proxy_pass http://127.0.0.1:${driverPort};
    }
  }
}
`;
fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);

const nginx = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
let stopping = false;
nginx.once('exit', (code, sig) => {
  if (!stopping) {
    process.stderr.write(`nchan bench server: nginx exited (${code ?? sig}): ${readErrorLog()}\n`);
    cleanup();
    process.exit(1);
  }
});

function readErrorLog() {
  try {
    return fs.readFileSync(path.join(prefix, 'error.log'), 'utf8').slice(-600);
  } catch {
    return '';
  }
}

function cleanup() {
  stopping = true;
  try {
    if (nginx.exitCode === null) nginx.kill('SIGTERM'); // nginx: fast shutdown
  } catch {}
  try {
    fs.rmSync(prefix, { recursive: true, force: true });
  } catch {}
}
process.on('exit', cleanup);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

// Children of nginx's master: its worker.
function workerPid() {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === nginx.pid) return Number(d);
    } catch {}
  }
  return 0;
}

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
function procCpu(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    // fields 14, 15 (utime, stime) are f[11], f[12] after the comm
    return { user: Number(f[11]) * TICK_US, sys: Number(f[12]) * TICK_US };
  } catch {
    return { user: 0, sys: 0 };
  }
}
function procRss(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return 0;
  }
}

// Keep-alive connection(s) to nginx's publisher location.
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
function post(data) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: nginxPort, path: '/pub', method: 'POST', agent, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`nchan publish: HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function getText(p) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: nginxPort, path: p, agent }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
}

let published = 0;
let publishing = 0;
const fail = (err) => process.stderr.write(`nchan bench server: ${err.message}\n`);

function publish(q) {
  const n = Math.max(0, Number(q.get('n') ?? 1));
  const bytes = Math.max(1, Number(q.get('bytes') ?? 64));
  const rate = Number(q.get('rate') ?? 0);
  const mode = q.get('mode') ?? 'burst';
  let sent = 0;
  publishing++;
  const one = () => {
    sent++;
    return post(payload(bytes)).then(() => published++, fail);
  };
  const finish = () => publishing--;
  if (rate > 0) {
    paced(n, rate, one, () => sent, finish);
  } else {
    // turn: `per` POSTs in flight (default 1: the next after the previous
    // answered); burst: 32 in flight.
    const window = mode === 'turn' ? Math.max(1, Number(q.get('per') ?? 1)) : 32;
    let inflight = 0;
    const pump = () => {
      while (inflight < window && sent < n) {
        inflight++;
        one().then(() => {
          inflight--;
          if (sent < n) pump();
          else if (inflight === 0) finish();
        });
      }
    };
    pump();
  }
}

async function onDriverRequest(req, res) {
  const url = new URL(req.url, 'http://x');
  req.resume();
  await new Promise((r) => req.on('end', r));
  if (url.pathname === '/publish') {
    publish(url.searchParams);
    res.writeHead(202, { 'content-type': 'application/json' });
    return res.end('{"ok":true}');
  }
  if (url.pathname === '/stats') {
    const w = workerPid();
    const cm = procCpu(nginx.pid);
    const cw = procCpu(w);
    let connections = 0;
    try {
      connections = Number(/subscribers:\s*(\d+)/.exec(await getText('/nchan_status'))?.[1] ?? 0);
    } catch {}
    const user_ = cm.user + cw.user;
    const sys = cm.sys + cw.sys;
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(
      JSON.stringify({
        name: 'nchan',
        fanout: 'nchan-eventsource',
        pid: w || nginx.pid,
        connections,
        rss: procRss(nginx.pid) + procRss(w),
        cpu_us: user_ + sys,
        cpu_user_us: user_,
        cpu_sys_us: sys,
        published,
        publishing,
      }),
    );
  }
  res.writeHead(404).end();
}

// Wait until nginx answers, then leave CPU 0 to it and print LISTENING.
for (let i = 0; ; i++) {
  try {
    await getText('/nchan_status');
    break;
  } catch (err) {
    if (i > 100) {
      process.stderr.write(`nchan bench server: nginx not answering on ${nginxPort}: ${err.message} ${readErrorLog()}\n`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
try {
  execFileSync('taskset', ['-a', '-p', '-c', process.env.NCHAN_DRIVER_CPU ?? '1', String(process.pid)], { stdio: 'ignore' });
} catch {}
process.stdout.write(`LISTENING ${nginxPort}\n`);
