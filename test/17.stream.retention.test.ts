// What an open adopted stream keeps alive. Once the core owns the socket,
// Node's socket, request and response (about 12 KB) must be collectable
// unless something of the app still listens on them: an idle stream then
// costs its core member and its SSEStream. Listeners the app added (to
// req 'close', res 'finish') still run at the end, because they keep what
// they need.
import * as http from 'node:http';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createSSEStream } from '../lib/index';
import type { SSEStream } from '../lib/stream/stream';
import { connect, eventually, testAdopted, useTestEnv, within } from './helpers/server';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

useTestEnv();

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function collect(pred: () => boolean): Promise<boolean> {
  for (let i = 0; i < 20 && !pred(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  return pred();
}

function serve(onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<number> {
  const server = http.createServer(onRequest);
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

testAdopted("an idle adopted stream keeps no reference to Node's socket, req or res", async () => {
  const N = 20;
  const gone = { req: 0, res: 0, socket: 0 };
  const registry = new FinalizationRegistry<keyof typeof gone>((k) => gone[k]++);
  const streams: SSEStream[] = [];
  const port = await serve((req, res) => {
    const s = createSSEStream(req, res, { heartbeatMs: 0 });
    expect(s.sinkKind).toBe('adopted');
    streams.push(s);
    registry.register(req, 'req');
    registry.register(res, 'res');
    registry.register(req.socket, 'socket');
  });
  const clients = [];
  for (let i = 0; i < N; i++) clients.push(await connect(port));
  await eventually(() => streams.length === N, 'every stream');
  await Promise.all(clients.map((c) => c.waitForHead()));
  expect(await collect(() => gone.req === N && gone.res === N && gone.socket === N)).toBe(true);
  // The streams still work.
  for (const s of streams) s.send({ data: 'after gc' });
  await Promise.all(clients.map((c) => c.waitForEvents(1)));
});

testAdopted("listeners the app added still run when the client leaves, after the handler's references are gone", async () => {
  const calls: string[] = [];
  let stream: SSEStream | undefined;
  const port = await serve((req, res) => {
    stream = createSSEStream(req, res, { heartbeatMs: 0 });
    req.on('close', () => calls.push('req close'));
    res.on('close', () => calls.push('res close'));
  });
  const client = await connect(port);
  await eventually(() => stream !== undefined, 'the stream');
  await client.waitForHead();
  gc();
  gc();
  client.destroy();
  await within(new Promise((r) => stream!.once('close', r)), 'the close');
  await eventually(() => calls.length === 2, 'both listeners');
  expect(calls).toEqual(['req close', 'res close']);
});

testAdopted("res 'finish' listeners run when the server ends the stream, after a GC", async () => {
  let finished = 0;
  let stream: SSEStream | undefined;
  const port = await serve((req, res) => {
    stream = createSSEStream(req, res, { heartbeatMs: 0 });
    res.on('finish', () => finished++);
  });
  const client = await connect(port);
  await eventually(() => stream !== undefined, 'the stream');
  await client.waitForHead();
  gc();
  gc();
  stream!.close();
  await client.waitForEnd();
  await eventually(() => finished === 1, "res 'finish'");
});
