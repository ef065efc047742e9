// The framework glue, each in a real framework on 127.0.0.1 read by a real
// client socket: the Fastify plugin (reply.sse()), the Express helpers
// (sseMiddleware() -> res.sse(), sse(handler)) on Express 4 and 5, and the
// Hono helper streamSSE(c, cb) on @hono/node-server. Adopted and res.write
// sinks where the glue sits on (req, res); the web sink for Hono.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { getRequestListener } from '@hono/node-server';
import { ssePlugin } from '../lib/adapters/fastify';
import * as fastifyGlue from '../lib/adapters/fastify';
import { sse, sseMiddleware } from '../lib/adapters/express';
import { streamSSE, type SSEWriter } from '../lib/adapters/hono';
import type { SSEStream } from '../lib/stream/stream';
import { SINKS, Queue, connect, eventually, listen, useTestEnv } from './helpers/server';

type Next = (err?: unknown) => void;
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, next: Next) => void;
type ErrorHandler = (err: unknown, req: http.IncomingMessage, res: http.ServerResponse, next: Next) => void;
interface ExpressApp extends http.RequestListener {
  use(h: Handler | ErrorHandler): void;
  get(path: string, ...h: Handler[]): void;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const express4 = require('express') as () => ExpressApp;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const express5 = require('express5') as () => ExpressApp;

useTestEnv();

describe.each(SINKS)('Fastify plugin, %s sink', (kind, sinkOpts) => {
  async function start(register: (app: ReturnType<typeof Fastify>) => Promise<unknown>) {
    const logs: string[] = [];
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
    await register(app);
    return { app, logs };
  }

  test('reply.sse() hijacks the reply, keeps reply.header() values and the defaults; Fastify logs nothing', async () => {
    const { app, logs } = await start((a) => a.register(ssePlugin, { defaults: { retry: 1500 } }));
    const opened = new Queue<SSEStream>();
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('Access-Control-Allow-Origin', 'https://app.example'); // as @fastify/cors does
    });
    app.get('/events', async (_request, reply) => {
      const stream = reply.sse({ ...sinkOpts, heartbeatMs: 0 });
      stream.send({ event: 'hello', id: '1', data: { from: 'fastify' } });
      opened.push(stream);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      const client = await connect(port, { path: '/events' });
      const stream = await opened.next();
      expect(stream.sinkKind).toBe(kind);
      await client.waitForEvents(1);
      expect(client.head!.statusCode).toBe(200);
      expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(client.reader.header('access-control-allow-origin')).toBe('https://app.example');
      expect(client.items.filter((i) => i.type === 'retry')).toEqual([{ type: 'retry', ms: 1500 }]);
      expect(client.events).toEqual([{ event: 'hello', id: '1', data: '{"from":"fastify"}' }]);
      stream.close();
      await client.waitForEnd();
    } finally {
      await app.close();
    }
    expect(logs).toEqual([]);
  });

  test('registered as the module (default export), used in a child context; a second reply.sse() is an Error naming the fix', async () => {
    const { app, logs } = await start(async (a) => {
      await a.register(fastifyGlue as unknown as typeof ssePlugin);
      await a.register(async (child: FastifyInstance) => {
        child.get('/child', (_request: FastifyRequest, reply: FastifyReply) => {
          const stream = reply.sse(sinkOpts);
          let second: unknown;
          try {
            reply.sse();
          } catch (err) {
            second = err;
          }
          stream.send({ data: String((second as Error).message) });
          stream.close();
        });
      });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      const client = await connect(port, { path: '/child' });
      await client.waitForEnd();
      expect(client.events).toHaveLength(1);
      expect(client.events[0].data).toMatch(/already sent .*call it once/);
    } finally {
      await app.close();
    }
    expect(logs).toEqual([]);
  });

  test('registering twice fails with an error naming the fix', async () => {
    const app = Fastify();
    await app.register(ssePlugin);
    await expect(app.register(ssePlugin).ready()).rejects.toThrow(/register the plugin once/);
    await app.close();
  });
});

describe.each([
  ['Express 4', express4],
  ['Express 5', express5],
])('%s helpers', (_name, express) => {
  describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
    test('sseMiddleware() gives res.sse(), with the defaults and the headers set before it', async () => {
      const app = express();
      const opened = new Queue<SSEStream>();
      app.use((_req: http.IncomingMessage, res: http.ServerResponse, next: Next) => {
        res.setHeader('Access-Control-Allow-Origin', '*');
        next();
      });
      app.use(sseMiddleware({ retry: 2500, heartbeatMs: 0 }));
      app.get('/events', (_req, res) => {
        const stream = (res as unknown as { sse(o?: object): SSEStream }).sse(sinkOpts);
        stream.send({ event: 'chunk', data: 'express' });
        opened.push(stream);
      });
      const { port } = await listen(http.createServer(app));
      const client = await connect(port, { path: '/events' });
      const stream = await opened.next();
      expect(stream.sinkKind).toBe(kind);
      await client.waitForEvents(1);
      expect(client.reader.header('access-control-allow-origin')).toBe('*');
      expect(client.items.filter((i) => i.type === 'retry')).toEqual([{ type: 'retry', ms: 2500 }]);
      expect(client.events).toEqual([{ event: 'chunk', id: undefined, data: 'express' }]);
      stream.close();
      await client.waitForEnd();
    });

    test('sse(handler) streams; a handler that rejects closes the stream and reaches the error handler', async () => {
      const app = express();
      const errors: unknown[] = [];
      app.get(
        '/ok',
        sse(
          (stream, req) => {
            stream.send({ data: { path: req.url, resumedFrom: stream.lastEventId ?? null } });
          },
          { ...sinkOpts, heartbeatMs: 0 },
        ),
      );
      app.get(
        '/fails',
        sse(async (stream) => {
          stream.send({ data: 'before' });
          await new Promise((r) => setImmediate(r));
          throw new Error('model unavailable');
        }, sinkOpts),
      );
      app.use((err: unknown, _req: http.IncomingMessage, _res: http.ServerResponse, _next: Next) => {
        errors.push(err);
      });
      const { port } = await listen(http.createServer(app));
      const ok = await connect(port, { path: '/ok', headers: { 'Last-Event-ID': '7' } });
      await ok.waitForEvents(1);
      expect(JSON.parse(ok.events[0].data)).toEqual({ path: '/ok', resumedFrom: '7' });
      ok.socket.destroy();

      const fails = await connect(port, { path: '/fails' });
      await fails.waitForEnd();
      expect(fails.events.map((e) => e.data)).toEqual(['before']);
      await eventually(() => errors.length === 1, 'the error to reach the error handler');
      expect((errors[0] as Error).message).toBe('model unavailable');
    });
  });

  test('bad arguments are TypeErrors naming what is expected', () => {
    expect(() => sse(undefined as unknown as () => void)).toThrow(/`handler` must be a function/);
    expect(() => sseMiddleware(5 as unknown as object)).toThrow(/options must be an object/);
  });
});

describe('Hono streamSSE (web sink, @hono/node-server)', () => {
  async function start(app: Hono) {
    return listen(http.createServer(getRequestListener(app.fetch)));
  }

  test('writeSSE and sleep; the stream ends when the callback returns; Last-Event-ID is there', async () => {
    const app = new Hono();
    app.get('/events', (c) =>
      streamSSE(
        c,
        async (stream) => {
          const from = Number(stream.stream.lastEventId ?? 0);
          for (let i = from + 1; i <= from + 3; i++) {
            await stream.writeSSE({ event: 'n', id: String(i), data: { i } });
            await stream.sleep(5);
          }
          await stream.writeSSE({ event: 'done', data: '[DONE]' });
        },
        { heartbeatMs: 0, headers: { 'X-Route': 'hono' } },
      ),
    );
    const { port } = await start(app);
    const client = await connect(port, { path: '/events', headers: { 'Last-Event-ID': '10' } });
    await client.waitForEnd();
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.reader.header('x-route')).toBe('hono');
    expect(client.events).toEqual([
      { event: 'n', id: '11', data: '{"i":11}' },
      { event: 'n', id: '12', data: '{"i":12}' },
      { event: 'n', id: '13', data: '{"i":13}' },
      { event: 'done', id: undefined, data: '[DONE]' },
    ]);
  });

  test('a long-lived stream: the client leaving aborts sleep() and calls onAbort once', async () => {
    const app = new Hono();
    const aborts = new Queue<string>();
    app.get('/live', (c) =>
      streamSSE(
        c,
        async (stream: SSEWriter) => {
          stream.onAbort(() => aborts.push('abort'));
          let n = 0;
          while (!stream.aborted) {
            await stream.writeSSE({ data: String(++n) });
            await stream.sleep(20);
          }
          aborts.push(`loop ended after ${n > 0 ? 'some' : 'no'} events`);
        },
        { heartbeatMs: 0 },
      ),
    );
    const { port } = await start(app);
    const client = await connect(port, { path: '/live' });
    await client.waitForEvents(2);
    client.socket.destroy();
    expect(await aborts.next('onAbort')).toBe('abort');
    expect(await aborts.next('the loop to end')).toBe('loop ended after some events');
  });

  test('a callback that throws: onError may write, then the stream ends', async () => {
    const app = new Hono();
    app.get('/fails', (c) =>
      streamSSE(
        c,
        async (stream) => {
          await stream.writeSSE({ data: 'partial' });
          throw new Error('boom');
        },
        {
          heartbeatMs: 0,
          onError: async (err, stream) => {
            await stream.writeSSE({ event: 'error', data: { message: (err as Error).message } });
          },
        },
      ),
    );
    const { port } = await start(app);
    const client = await connect(port, { path: '/fails' });
    await client.waitForEnd();
    expect(client.events).toEqual([
      { event: undefined, id: undefined, data: 'partial' },
      { event: 'error', id: undefined, data: '{"message":"boom"}' },
    ]);
  });

  test('bad arguments are TypeErrors naming what is expected', () => {
    expect(() => streamSSE({} as never, async () => {})).toThrow(/`c` must be Hono's Context/);
  });
});

test('package.json exports sse-native/fastify, /express and /hono (types and code)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    exports: Record<string, { types: string; default: string }>;
  };
  for (const name of ['fastify', 'express', 'hono']) {
    expect(pkg.exports[`./${name}`]).toEqual({ types: `./dist/adapters/${name}.d.ts`, default: `./dist/adapters/${name}.js` });
    expect(fs.existsSync(path.join(__dirname, '..', 'lib', 'adapters', `${name}.ts`))).toBe(true);
  }
});
