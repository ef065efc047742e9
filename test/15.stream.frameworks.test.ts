// createSSEStream inside real frameworks: Express 4 and 5 (with a CORS-like
// middleware and express.json()), Fastify (reply.hijack(), then the raw
// request/response), and a Next.js pages API route (a plain (req, res)
// handler on node:http). Adopted by default, the response sink with adopt: false.
import * as http from 'node:http';
import Fastify from 'fastify';
import { createSSEStream } from '../lib/index';
import type { SSEStreamOptions } from '../lib/stream/options';
import { SINKS, Queue, connect, listen, type Opened, useTestEnv } from './helpers/server';

// Express ships no types; these tests need only this much of it.
type Next = (err?: unknown) => void;
type Handler = (req: http.IncomingMessage & { body?: unknown }, res: http.ServerResponse, next: Next) => void;
interface ExpressApp extends http.RequestListener {
  use(h: Handler): void;
  get(path: string, ...h: Handler[]): void;
  post(path: string, ...h: Handler[]): void;
}
interface Express {
  (): ExpressApp;
  json(): Handler;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const express4 = require('express') as Express;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const express5 = require('express5') as Express;

useTestEnv();

describe.each([
  ['Express 4', express4],
  ['Express 5', express5],
])('%s', (_name, express) => {
  describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
    async function start(): Promise<{ port: number; opened: Queue<Opened>; errors: unknown[] }> {
      const app = express();
      const opened = new Queue<Opened>();
      const errors: unknown[] = [];
      app.use((_req, res, next) => {
        res.setHeader('Access-Control-Allow-Origin', 'https://app.example');
        res.setHeader('Access-Control-Allow-Credentials', 'true');
        next();
      });
      app.get('/events', (req, res) => {
        const stream = createSSEStream(req, res, { ...sinkOpts, retry: 2000 });
        stream.send({ event: 'hello', id: '1', data: { from: 'express' } });
        opened.push({ stream, req, res });
      });
      app.post('/v1/infer', express.json(), (req, res) => {
        const stream = createSSEStream(req, res, { ...sinkOpts });
        stream.send({ event: 'prompt', data: req.body });
        opened.push({ stream, req, res });
      });
      // Express error middleware: anything reaching it is a test failure.
      app.use(((err: unknown, _req: unknown, _res: unknown, next: Next) => {
        errors.push(err);
        next(err);
      }) as unknown as Handler);
      const srv = await listen(http.createServer(app));
      return { port: srv.port, opened, errors };
    }

    test('GET: the middleware header is in the head and events arrive', async () => {
      const { port, opened, errors } = await start();
      const client = await connect(port, { path: '/events' });
      const { stream } = await opened.next();
      expect(stream.sinkKind).toBe(kind);
      await client.waitForEvents(1);
      expect(client.head!.statusCode).toBe(200);
      expect(client.reader.header('access-control-allow-origin')).toBe('https://app.example');
      expect(client.reader.header('access-control-allow-credentials')).toBe('true');
      expect(client.reader.header('x-powered-by')).toBe('Express');
      expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(client.items).toEqual([
        { type: 'retry', ms: 2000 },
        { type: 'event', event: { event: 'hello', id: '1', data: '{"from":"express"}' } },
      ]);
      stream.send({ data: 'bye' });
      stream.close();
      await client.waitForEnd();
      expect(client.events.map((e) => e.data)).toEqual(['{"from":"express"}', 'bye']);
      expect(errors).toEqual([]);
    });

    test('POST with express.json(): the parsed body, then the stream', async () => {
      const { port, opened, errors } = await start();
      const client = await connect(port, {
        method: 'POST',
        path: '/v1/infer',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt: 'Hello', stream: true }),
      });
      const { stream } = await opened.next();
      expect(stream.sinkKind).toBe(kind);
      await client.waitForEvents(1);
      expect(client.reader.header('access-control-allow-origin')).toBe('https://app.example');
      expect(JSON.parse(client.events[0].data)).toEqual({ prompt: 'Hello', stream: true });
      expect(errors).toEqual([]);
    });
  });
});

describe.each(SINKS)('Fastify, %s sink', (kind, sinkOpts) => {
  test('reply.hijack() then createSSEStream(request.raw, reply.raw); Fastify logs nothing', async () => {
    const logs: string[] = [];
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
    const opened = new Queue<Opened>();
    app.addHook('onRequest', async (_request, reply) => {
      // Kept by Fastify's reply object, which a hijacked route no longer
      // uses: not on reply.raw, so not sent (Fastify's own behaviour).
      reply.header('X-Via-Reply', 'fastify');
    });
    app.get('/events', (request, reply) => {
      reply.hijack();
      reply.raw.setHeader('Access-Control-Allow-Origin', '*');
      const stream = createSSEStream(request.raw, reply.raw, { ...sinkOpts } satisfies SSEStreamOptions);
      stream.send({ event: 'hello', data: 'fastify' });
      opened.push({ stream, req: request.raw, res: reply.raw });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      const client = await connect(port, { path: '/events' });
      const { stream } = await opened.next();
      expect(stream.sinkKind).toBe(kind);
      await client.waitForEvents(1);
      expect(client.reader.header('access-control-allow-origin')).toBe('*');
      expect(client.reader.header('x-via-reply')).toBeUndefined();
      expect(client.events).toEqual([{ event: 'hello', id: undefined, data: 'fastify' }]);
      stream.send({ data: 'two' });
      await client.waitForEvents(2);
      stream.close();
      await client.waitForEnd();
      client.destroy();
    } finally {
      await app.close();
    }
    expect(logs).toEqual([]);
  });
});

describe.each(SINKS)('Next.js pages API route, %s sink', (kind, sinkOpts) => {
  test('a default-exported (req, res) handler on node:http', async () => {
    const opened = new Queue<Opened>();
    // pages/api/events.ts
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      const stream = createSSEStream(req, res, { ...sinkOpts });
      stream.send({ data: { message: 'hi' } });
      opened.push({ stream, req, res });
    };
    const srv = await listen(http.createServer(handler));
    const client = await connect(srv.port, { path: '/api/events' });
    const { stream } = await opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForEvents(1);
    expect(client.reader.header('access-control-allow-origin')).toBe('*');
    expect(client.events[0].data).toBe('{"message":"hi"}');
    stream.close();
    await client.waitForEnd();
  });
});
