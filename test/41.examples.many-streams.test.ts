// examples/many-streams run as a user runs it: two Worker threads sharing one
// port (reusePort), each with the core's listener; the main thread's ticks
// reach clients of both threads, and SIGTERM ends it all.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { EventSource } from '../lib/node-client';
import { freePort } from './helpers/server';

const ROOT = path.resolve(__dirname, '..');
const BOUND_MS = 15_000;

function tick(url: string): Promise<{ id: string; n: number }> {
  const es = new EventSource(url);
  return new Promise<{ id: string; n: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no tick from ${url} within ${BOUND_MS} ms`)), BOUND_MS);
    es.addEventListener('tick', (e) => {
      clearTimeout(timer);
      const m = e as MessageEvent<string>;
      resolve({ id: m.lastEventId, n: (JSON.parse(m.data) as { n: number }).n });
    });
  }).finally(() => es.close());
}

test('two Worker threads on one port: every client gets the ticks; SIGTERM stops it', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'examples/many-streams/server.mjs')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), WORKERS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b));
  child.stderr!.on('data', (b: Buffer) => (out += b));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within ${BOUND_MS} ms:\n${out}`)), BOUND_MS);
      child.stdout!.on('data', () => {
        if (out.includes(`http://localhost:${port}/events (2 threads)`)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const got = await Promise.all(Array.from({ length: 8 }, () => tick(`http://127.0.0.1:${port}/events`)));
    for (const t of got) expect(t.id).toBe(String(t.n));
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(out).not.toMatch(/Error/);
}, 40_000);
