// examples/cluster: node:cluster with two workers sharing one port and one
// Redis. Clients spread over both workers (the primary hands connections
// round-robin); a message posted to any worker reaches every client once; a
// client that reconnects resumes from the Stream wherever it lands.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { connect, within, type SSEClient } from './helpers/server';
import { RedisServer } from './helpers/redis';

let redis: RedisServer;
let primary: ChildProcess | undefined;
const clients: SSEClient[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  if (primary && primary.exitCode === null) {
    const exited = new Promise((r) => primary!.once('exit', r));
    process.kill(primary.pid!, 'SIGTERM');
    await within(exited, 'the example to exit');
  }
  await redis?.destroy();
});

function post(port: number, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

test('two workers behind one port: every client gets every message once; a resume lands anywhere', async () => {
  primary = spawn(process.execPath, [path.join(__dirname, '../examples/cluster/server.js')], {
    env: { ...process.env, PORT: '0', WORKERS: '2', REDIS_URL: redis.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await within(
    new Promise<number>((resolve) => {
      primary!.stdout!.on('data', (d) => {
        out += d;
        const ports = [...out.matchAll(/listening on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
        if (ports.length === 2) resolve(ports[0]);
      });
    }),
    'both workers to listen',
    20_000,
  );
  for (let i = 0; i < 6; i++) clients.push(await connect(port, { path: '/events' }));
  await Promise.all(clients.map((c) => c.waitFor((x) => x.comments.some((t) => t.startsWith('worker ')), 'the worker comment')));
  const workers = new Set(clients.map((c) => c.comments.find((t) => t.startsWith('worker '))));
  expect(workers.size).toBe(2);

  // Each POST is answered once Redis took it, so m1..m5 are in that order.
  const said: string[] = [];
  for (let i = 1; i <= 5; i++) said.push(await post(port, `/say?text=m${i}`));
  expect(new Set(said.map((s) => s.trim())).size).toBe(2); // posted through both workers
  await Promise.all(clients.map((c) => c.waitForEvents(5)));
  for (const c of clients) {
    expect(c.events.map((e) => JSON.parse(e.data).text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(c.events.map((e) => e.id)).toEqual(clients[0].events.map((e) => e.id));
  }
  // Drop after m2, post m6, reconnect with Last-Event-ID (to whichever worker).
  const lastId = clients[0].events[1].id!;
  clients[0].destroy();
  await post(port, '/say?text=m6');
  const again = await connect(port, { path: '/events', headers: { 'Last-Event-ID': lastId } });
  clients.push(again);
  await again.waitForEvents(4);
  expect(again.events.map((e) => JSON.parse(e.data).text)).toEqual(['m3', 'm4', 'm5', 'm6']);
}, 60_000);
