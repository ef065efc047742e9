// Many idle subscribers on every core. One Worker thread per core, each
// with the core's own listener on the same port (reusePort: the kernel
// spreads the connections), every stream held by the core alone
// (req.subscribe: no JavaScript object per connection, about 1 KB each).
// The main thread publishes; a broadcast from any thread reaches the
// streams of all of them.
//
//   PORT=3000 WORKERS=2 node examples/many-streams/server.mjs
//   curl -N http://localhost:3000/events
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { broadcast, closeAll, listenSSE } from 'sse-native';

if (isMainThread) {
  const port = Number(process.env.PORT ?? 3000);
  const count = Number(process.env.WORKERS ?? availableParallelism());
  const workers = await Promise.all(
    Array.from({ length: count }, () => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { port } });
      return new Promise((resolve, reject) => {
        worker.once('message', () => resolve(worker));
        worker.once('error', reject);
      });
    }),
  );
  console.log(`http://localhost:${port}/events (${count} threads)`);

  let n = 0;
  const timer = setInterval(() => broadcast('ticks', { event: 'tick', id: String(++n), data: { n, at: Date.now() } }), 1000);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    for (const w of workers) w.postMessage('stop');
  });
} else {
  const server = await listenSSE({ port: workerData.port, reusePort: true }, (req) => {
    if (!req.url.startsWith('/events')) return req.respond(404, 'try /events\n');
    req.subscribe({ key: 'ticks', heartbeatMs: 30_000 });
  });
  parentPort.postMessage('listening');
  parentPort.on('message', async () => {
    await server.close();
    await closeAll();
    parentPort.close();
  });
}
