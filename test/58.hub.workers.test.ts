// The hub across threads: the addon loads in worker_threads (instance data
// per environment); a broadcast made in a Worker reaches the main thread's
// streams (adopted and fallback), every event once, in the Worker's order;
// a Worker that is terminated mid-stream leaves nothing behind.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { native } from '../lib/native/binding';
import { SINKS, connect, eventually, startSSE, within, useTestEnv } from './helpers/server';

const DIST = path.join(__dirname, '..', 'dist', 'index.js');

useTestEnv();

function runWorker(source: string): Worker {
  return new Worker(`const sse = require(${JSON.stringify(DIST)});\n${source}`, { eval: true });
}

const exited = (w: Worker) => within(new Promise<number>((r) => w.once('exit', r)), 'the Worker to exit');

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('1 000 broadcasts from a Worker arrive at a main-thread stream, once each, in order', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, key: 'jobs' });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForHead();
    const worker = runWorker(`for (let i = 0; i < 1000; i++) sse.broadcast('jobs', 'tick', String(i));`);
    expect(await exited(worker)).toBe(0);
    await client.waitForEvents(1000);
    expect(client.events.map((e) => e.data)).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    expect(client.events.every((e) => e.event === 'tick')).toBe(true);
  });
});

test('two Workers publishing at once: each one\'s events arrive in its own order', async () => {
  const srv = await startSSE({ heartbeatMs: 0, key: 'mix' });
  const client = await connect(srv.port);
  await srv.opened.next();
  await client.waitForHead();
  const a = runWorker(`for (let i = 0; i < 500; i++) sse.broadcast('mix', { event: 'a', data: String(i) });`);
  const b = runWorker(`for (let i = 0; i < 500; i++) sse.broadcast('mix', { event: 'b', data: String(i) });`);
  await Promise.all([exited(a), exited(b)]);
  await client.waitForEvents(1000);
  for (const name of ['a', 'b']) {
    const seq = client.events.filter((e) => e.event === name).map((e) => Number(e.data));
    expect(seq).toEqual(Array.from({ length: 500 }, (_, i) => i));
  }
});

test('a Worker with its own adopted streams gets the main thread\'s broadcasts; terminating it leaves nothing behind', async () => {
  const worker = runWorker(`
    const http = require('node:http');
    const { parentPort } = require('node:worker_threads');
    const server = http.createServer((req, res) => {
      const s = sse.createSSEStream(req, res, { heartbeatMs: 0, key: 'from-main' });
      parentPort.postMessage({ kind: s.sinkKind });
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
  `);
  const messages: { port?: number; kind?: string }[] = [];
  worker.on('message', (m) => messages.push(m));
  await eventually(() => messages.some((m) => m.port), 'the Worker to listen');
  const port = messages.find((m) => m.port)!.port!;
  const client = await connect(port);
  await client.waitForHead();
  await eventually(() => messages.some((m) => m.kind), 'the Worker to open the stream');
  expect(messages.find((m) => m.kind)!.kind).toBe('adopted');
  const { broadcast } = await import('../lib/hub/hub');
  for (let i = 0; i < 100; i++) broadcast('from-main', { data: `m${i}` });
  await client.waitForEvents(100);
  expect(client.events.map((e) => e.data)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  const openBefore = native.stats().connectionsOpen;
  await worker.terminate();
  // The Worker's loop closed its connection: the client sees the end, and
  // broadcasts go on working on this thread.
  await client.waitFor((c) => c.gotEOF || c.closed, 'the client to see the Worker go');
  expect(native.stats().connectionsOpen).toBe(openBefore);
  expect(() => broadcast('from-main', { data: 'after' })).not.toThrow();
});
