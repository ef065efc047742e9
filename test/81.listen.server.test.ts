// listenSSE(): a server whose connections the C++ core accepts itself
// (engine 'core', no Node HTTP objects per connection), or node:http with
// the same API (engine 'node'; the TypeScript backend's only one). Real
// clients on 127.0.0.1: raw sockets, and the package's EventSource.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { EventSource, broadcast, closeAll, configureKey, getConnectionCount, listenSSE, setLimits, type SSEServer, type SSERequest } from '../lib/index';
import type { SSEStream } from '../lib/stream/stream';
import { Queue, connect, connectRaw, eventually, onNative, useTestEnv, within } from './helpers/server';

const servers: SSEServer[] = [];
useTestEnv(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterEach(() => setLimits({}));

const ENGINES: ('core' | 'node')[] = onNative ? ['core', 'node'] : ['node'];

async function start(engine: 'core' | 'node', handler: (req: SSERequest) => void | Promise<void>, extra: Record<string, unknown> = {}): Promise<SSEServer> {
  const server = await listenSSE({ host: '127.0.0.1', engine, ...extra }, handler);
  servers.push(server);
  return server;
}

/** A server whose handler accepts every request with `opts`, reporting each request and stream. */
async function accepting(engine: 'core' | 'node', opts: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const opened = new Queue<{ req: SSERequest; stream: SSEStream }>();
  const server = await start(engine, (req) => opened.push({ req, stream: req.accept({ heartbeatMs: 0, ...opts }) }), extra);
  return { server, opened };
}

describe.each(ENGINES)('engine %s', (engine) => {
  test('accept(): the stream delivers sends and broadcasts; the request is described', async () => {
    const { server, opened } = await accepting(engine, { key: 'room:listen' });
    expect(server.engine).toBe(engine);
    expect(server.port).toBeGreaterThan(0);
    const client = await connect(server.port, { path: '/events?x=1', headers: { 'Last-Event-ID': '7', 'X-Thing': 'a' } });
    const { req, stream } = await within(opened.next(), 'the request');
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/events?x=1');
    expect(req.httpVersion).toBe('1.1');
    expect(req.headers['x-thing']).toBe('a');
    expect(req.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(req.remoteAddress).toMatch(/127\.0\.0\.1$/);
    expect(req.remotePort).toBe(client.socket.localPort);
    expect(req.lastEventId).toBe('7');
    expect(req.answered).toBe(true);
    expect(stream.lastEventId).toBe('7');
    expect(stream.sinkKind).toBe(engine === 'core' ? 'adopted' : onNative ? 'adopted' : 'response');
    const head = await client.waitForHead();
    expect(head.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    stream.send({ event: 'hello', data: 'one' });
    expect(broadcast('room:listen', 'tick', 'two')).toBe(1);
    await client.waitForEvents(2);
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      ['hello', 'one'],
      ['tick', 'two'],
    ]);
  });

  test("the package's EventSource reads a stream", async () => {
    const { server, opened } = await accepting(engine);
    const es = new EventSource(`http://127.0.0.1:${server.port}/feed`);
    try {
      const got = new Queue<string>();
      es.onmessage = (e) => got.push(String(e.data));
      const { stream } = await within(opened.next(), 'the request');
      stream.send({ data: 'from listenSSE' });
      expect(await within(got.next(), 'the message')).toBe('from listenSSE');
    } finally {
      es.close();
    }
  });

  test('respond(): a plain answer with its status, headers and body, then the connection closes', async () => {
    const server = await start(engine, (req) => {
      req.respond(401, 'log in first', { 'WWW-Authenticate': 'Bearer' });
    });
    const client = await connect(server.port);
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(401);
    expect(client.reader.header('www-authenticate')).toBe('Bearer');
    expect(client.reader.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(client.reader.header('content-length')).toBe(String('log in first'.length));
    expect(client.reader.bodyText).toBe('log in first');
  });

  test('a request the handler leaves unanswered gets 404 naming the fix', async () => {
    const server = await start(engine, () => undefined);
    const client = await connect(server.port, { path: '/nothing' });
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(404);
    expect(client.reader.bodyText).toContain('req.accept()');
  });

  test('an async handler may await before accepting', async () => {
    const opened = new Queue<SSEStream>();
    const server = await start(engine, async (req) => {
      await new Promise((r) => setTimeout(r, 20));
      opened.push(req.accept({ heartbeatMs: 0 }));
    });
    const client = await connect(server.port);
    const stream = await within(opened.next(), 'the stream');
    stream.send({ data: 'late' });
    await client.waitForEvents(1);
    expect(client.events[0].data).toBe('late');
  });

  test("a handler that throws: 500 for the client, the error on the server's 'error'", async () => {
    const boom = new Error('handler failed');
    const server = await start(engine, () => {
      throw boom;
    });
    const errors = new Queue<unknown>();
    server.on('error', (err) => errors.push(err));
    const client = await connect(server.port);
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(500);
    expect(await within(errors.next(), 'the error event')).toBe(boom);
  });

  test('answering twice is an error that names the fix; the first answer stands', async () => {
    const second = new Queue<unknown>();
    const server = await start(engine, (req) => {
      req.respond(204);
      try {
        req.accept();
      } catch (err) {
        second.push(err);
      }
    });
    const client = await connect(server.port);
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(204);
    const err = (await within(second.next(), 'the second answer')) as { code?: string; message: string };
    expect(err.code).toBe('SSE_ALREADY_STREAMING');
    expect(err.message).toContain('once per request');
  });

  test("the client leaving closes the stream with SSE_CLIENT_GONE", async () => {
    const { server, opened } = await accepting(engine);
    const client = await connect(server.port);
    const { stream } = await within(opened.next(), 'the request');
    await client.waitForHead();
    const closed = once(stream, 'close');
    client.destroy();
    await within(closed, "the stream's close");
    expect((stream.closeReason as { code?: string }).code).toBe('SSE_CLIENT_GONE');
  });

  test('allowOrigins refuses a foreign Origin with 403 and a closed stream', async () => {
    const { server, opened } = await accepting(engine, { allowOrigins: ['https://app.example'] });
    const client = await connect(server.port, { headers: { Origin: 'https://evil.example' } });
    const { stream } = await within(opened.next(), 'the request');
    expect(stream.closed).toBe(true);
    expect((stream.closeReason as { code?: string }).code).toBe('SSE_FORBIDDEN');
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(403);
    const ok = await connect(server.port, { headers: { Origin: 'https://app.example' } });
    const second = await within(opened.next(), 'the allowed request');
    expect(second.stream.closed).toBe(false);
    await ok.waitForHead();
    expect(ok.reader.header('access-control-allow-origin')).toBe('https://app.example');
  });

  test('maxConnections: the stream over the limit gets 503 with Retry-After', async () => {
    setLimits({ maxConnections: 1 });
    const { server, opened } = await accepting(engine);
    const first = await connect(server.port);
    await within(opened.next(), 'the first request');
    await first.waitForHead();
    const second = await connect(server.port);
    const refused = await within(opened.next(), 'the second request');
    expect((refused.stream.closeReason as { code?: string }).code).toBe('SSE_LIMIT');
    await second.waitForEnd();
    expect(second.head?.statusCode).toBe(503);
    expect(second.reader.header('retry-after')).toMatch(/^\d+$/);
  });

  test('resume: a client with Last-Event-ID gets what it missed from the key, then live events', async () => {
    configureKey(`listen:replay:${engine}`, { replay: { maxEvents: 16 } });
    for (const d of ['a', 'b', 'c']) broadcast(`listen:replay:${engine}`, 'message', d);
    const { server, opened } = await accepting(engine, { key: `listen:replay:${engine}`, resume: true });
    const client = await connect(server.port, { headers: { 'Last-Event-ID': '1' } });
    await within(opened.next(), 'the request');
    broadcast(`listen:replay:${engine}`, 'message', 'd');
    await client.waitForEvents(3);
    expect(client.events.map((e) => [e.id, e.data])).toEqual([
      ['2', 'b'],
      ['3', 'c'],
      ['4', 'd'],
    ]);
  });

  test(engine === 'core' ? 'no Node socket exists on the server side of a stream' : 'node:http: one Node socket per stream (what the core engine saves)', async () => {
    const { server, opened } = await accepting(engine);
    const clients = [];
    for (let i = 0; i < 20; i++) {
      clients.push(await connect(server.port));
      await within(opened.next(), 'a request');
    }
    await Promise.all(clients.map((c) => c.waitForHead()));
    const handles = (process as unknown as { _getActiveHandles(): { localPort?: number; destroyed?: boolean }[] })._getActiveHandles();
    const serverSide = handles.filter((h) => h.localPort === server.port && !h.destroyed).length;
    // On the addon, node:http's sockets are adopted too (destroyed, the core holds a duplicate).
    expect(serverSide).toBe(engine === 'core' || onNative ? 0 : 20);
  });

  test('subscribe(): a stream with no handle, reached by broadcast, gone when the client leaves', async () => {
    const key = `listen:sub:${engine}`;
    configureKey(key, { replay: { maxEvents: 8 } });
    broadcast(key, 'message', 'seen');
    broadcast(key, 'message', 'missed');
    const results = new Queue<boolean>();
    const server = await start(engine, (req) => results.push(req.subscribe({ key, resume: true, heartbeatMs: 0, retry: 1500 })));
    const client = await connect(server.port, { headers: { 'Last-Event-ID': '1' } });
    expect(await within(results.next(), 'subscribe()')).toBe(true);
    await client.waitForHead();
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(broadcast(key, 'message', 'live')).toBe(1);
    await client.waitForEvents(2);
    expect(client.events.map((e) => e.data)).toEqual(['missed', 'live']);
    expect(client.items.some((i) => i.type === 'retry' && i.ms === 1500)).toBe(true);
    client.destroy();
    await eventually(() => getConnectionCount(key) === 0, 'the member to leave the key');
  });

  test('subscribe() without a key is an error naming the fix; closeAll(final) ends subscribed streams after their queue and the final event', async () => {
    const errors = new Queue<unknown>();
    const key = `listen:sub2:${engine}`;
    const server = await start(engine, (req) => {
      if (req.url === '/nokey') {
        try {
          req.subscribe({} as never);
        } catch (err) {
          errors.push(err);
          req.respond(400, 'no key');
        }
        return;
      }
      req.subscribe({ key, heartbeatMs: 0 });
    });
    const bad = await connect(server.port, { path: '/nokey' });
    expect(((await within(errors.next(), 'the error')) as Error).message).toContain('`key` is required');
    await bad.waitForEnd();
    const client = await connect(server.port);
    await client.waitForHead();
    await eventually(() => getConnectionCount(key) === 1, 'the member');
    for (let i = 0; i < 50; i++) broadcast(key, 'message', `e${i}`);
    // Resolves once the member closed, after its queue and the final event.
    await closeAll({ event: 'bye', data: 'shutdown' });
    expect(getConnectionCount(key)).toBe(0);
    await client.waitForEnd();
    expect(client.events.map((e) => e.data)).toEqual([...Array.from({ length: 50 }, (_, i) => `e${i}`), 'shutdown']);
    expect(client.events[50].event).toBe('bye');
  });

  test('subscribe() refused by an option answers its status and returns false', async () => {
    const results = new Queue<boolean>();
    const server = await start(engine, (req) => results.push(req.subscribe({ key: 'listen:refused', authorize: () => false })));
    const client = await connect(server.port);
    expect(await within(results.next(), 'subscribe()')).toBe(false);
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(401);
  });

  test('unref(): a process with only an unref()ed server exits by itself', () => {
    const dist = path.join(__dirname, '..', 'dist', 'index.js');
    const script = `require(${JSON.stringify(dist)}).listenSSE({ host: '127.0.0.1', engine: '${engine}' }, () => {}).then((s) => { s.unref(); console.log('listening', s.port > 0); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, SSE_NATIVE: onNative ? 'native' : 'js' } });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe('listening true');
    expect(r.status).toBe(0);
  });

  test('listening where another server listens rejects with EADDRINUSE naming the fix', async () => {
    const first = await start(engine, () => undefined);
    const err = (await listenSSE({ host: '127.0.0.1', port: first.port, engine }, () => undefined).then(
      () => new Error('listened twice'),
      (e: unknown) => e,
    )) as NodeJS.ErrnoException;
    expect(err.code).toBe('EADDRINUSE');
    if (engine === 'core') expect(err.message).toContain('pick another port');
  });

  test('close() stops accepting; a stream already open goes on', async () => {
    const { server, opened } = await accepting(engine);
    const client = await connect(server.port);
    const { stream } = await within(opened.next(), 'the request');
    await client.waitForHead();
    await server.close();
    const refused = net.connect(server.port, '127.0.0.1');
    const [err] = (await within(once(refused, 'error'), 'the refused connect')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    stream.send({ data: 'still here' });
    await client.waitForEvents(1);
    expect(client.events[0].data).toBe('still here');
  });
});

describe('listenSSE arguments', () => {
  test('bad options are TypeErrors that name the option', async () => {
    await expect(listenSSE({ port: -1 }, () => undefined)).rejects.toThrow(/`port` must be an integer from 0 to 65535/);
    await expect(listenSSE({ prot: 1 } as never, () => undefined)).rejects.toThrow(/unknown option `prot`/);
    await expect(listenSSE({}, 'x' as never)).rejects.toThrow(/`handler` must be a function/);
    await expect(listenSSE({ stream: { heartbeatMs: -1 } }, () => undefined)).rejects.toThrow(/heartbeatMs/);
  });
});

if (onNative) describe('engine core: one port for several threads (reusePort)', () => {
  test('without reusePort a second listener on the port fails; with it both listen', async () => {
    const a = await start('core', () => undefined, { reusePort: true });
    await expect(listenSSE({ host: '127.0.0.1', port: a.port }, () => undefined)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const b = await start('core', () => undefined, { reusePort: true, port: a.port });
    expect(b.port).toBe(a.port);
  });

  test('a Worker and the main thread share a port: connections land on both, a broadcast reaches all', async () => {
    const key = 'listen:threads';
    const main = await start('core', (req) => void req.subscribe({ key, heartbeatMs: 0 }), { reusePort: true });
    const dist = path.join(__dirname, '..', 'dist', 'index.js');
    const worker = new Worker(
      `const sse = require(${JSON.stringify(dist)});
       const { parentPort } = require('node:worker_threads');
       sse.listenSSE({ host: '127.0.0.1', port: ${main.port}, reusePort: true }, (req) => void req.subscribe({ key: '${key}', heartbeatMs: 0 }))
         .then((server) => {
           parentPort.postMessage('ready');
           parentPort.on('message', async (m) => {
             if (m === 'count') parentPort.postMessage(sse.getConnectionCount('${key}'));
             if (m === 'stop') { await server.close(); await sse.closeAll(); parentPort.close(); }
           });
         });`,
      { eval: true },
    );
    const replies = new Queue<unknown>();
    worker.on('message', (m) => replies.push(m));
    try {
      expect(await within(replies.next(), 'the Worker to listen')).toBe('ready');
      const clients = [];
      for (let i = 0; i < 40; i++) clients.push(await connect(main.port));
      await Promise.all(clients.map((c) => c.waitForHead()));
      worker.postMessage('count');
      const inWorker = (await within(replies.next(), 'the count')) as number;
      const inMain = getConnectionCount(key);
      expect(inMain + inWorker).toBe(40);
      // The kernel spreads them by address hash: 40 all on one side is 2^-39.
      expect(inMain).toBeGreaterThan(0);
      expect(inWorker).toBeGreaterThan(0);
      broadcast(key, 'message', 'to every thread');
      await Promise.all(clients.map((c) => c.waitForEvents(1)));
      expect(clients.every((c) => c.events[0].data === 'to every thread')).toBe(true);
    } finally {
      worker.postMessage('stop');
      await within(new Promise((r) => worker.once('exit', r)), 'the Worker to exit');
    }
  });
});

if (onNative) describe('engine core: what the core answers itself', () => {
  test('a malformed head gets 400 and the handler never sees it', async () => {
    let seen = 0;
    const server = await start('core', () => {
      seen++;
    });
    const client = await connectRaw(server.port);
    client.socket.write('NOT A REQUEST\r\n\r\n');
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(400);
    expect(seen).toBe(0);
  });

  test('a request with a body gets 413 (bodies are not read)', async () => {
    const server = await start('core', (req) => {
      req.accept();
    });
    const client = await connect(server.port, { method: 'POST', body: 'hello' });
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(413);
  });

  test('HEAD: accept() answers the head a GET would get, with no body, and returns a closed stream', async () => {
    const opened = new Queue<SSEStream>();
    const server = await start('core', (req) => opened.push(req.accept({ heartbeatMs: 0 })));
    const client = await connect(server.port, { method: 'HEAD' });
    const stream = await within(opened.next(), 'the stream');
    expect(stream.closed).toBe(true);
    await client.waitForEnd();
    expect(client.head?.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.reader.bodyLength).toBe(0);
  });

  test('a head not complete within headTimeoutMs: the connection is closed', async () => {
    let seen = 0;
    const server = await start('core', () => {
      seen++;
    }, { headTimeoutMs: 200 });
    const client = await connectRaw(server.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await within(client.waitFor((c) => c.closed || c.gotEOF, 'the server to close'), 'the timeout');
    expect(seen).toBe(0);
    await eventually(() => (server.stats?.headTimeouts ?? 0) >= 1, 'the head timeout counted');
  });


});
