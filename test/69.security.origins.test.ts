// allowOrigins (issue 11, security controls): a request whose Origin is not
// allowed gets 403 before anything counts and no stream opens; an allowed
// one gets Access-Control-Allow-Origin: <origin>, Vary: Origin, and
// Access-Control-Allow-Credentials with `credentials: true`; a request with
// no Origin is let in. node:http (both sinks), Express and web streams.
import * as http from 'node:http';
import { corsPreflight, corsPreflightResponse, createSSEStream, getMetrics, setLimits, sseResponse } from '../lib/index';
import { sse } from '../lib/adapters/express';
import { openStreamCount } from '../lib/stream/stream';
import { Queue, SINKS, connect, eventually, listen, startHttp, startSSE, useTestEnv } from './helpers/server';
import type { SSEStream } from '../lib/index';
import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import { streamSSE } from '../lib/adapters/hono';
import Fastify from 'fastify';
import { ssePlugin } from '../lib/adapters/fastify';

useTestEnv();
afterEach(() => setLimits({}));

const APP = 'https://app.example';

describe.each(SINKS)('node:http, %s sink', (kind, sinkOpts) => {
  test('an Origin not allowed: 403 before any limit counts, no stream', async () => {
    setLimits({ maxConnections: 1 });
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, allowOrigins: [APP] });
    const ok = await connect(srv.port, { headers: { Origin: APP } });
    const first = (await srv.opened.next()).stream;
    expect((await ok.waitForHead()).statusCode).toBe(200);
    const refusedBefore = getMetrics().refused;
    const deniedBefore = getMetrics().denied;
    const evil = await connect(srv.port, { headers: { Origin: 'https://evil.example' } });
    const { stream } = await srv.opened.next();
    // 403, not the 503 of the limit the allowed stream fills.
    expect((await evil.waitForHead()).statusCode).toBe(403);
    expect(evil.reader.header('access-control-allow-origin')).toBeUndefined();
    expect(stream.closed).toBe(true);
    expect((stream.closeReason as { code?: string }).code).toBe('SSE_FORBIDDEN');
    expect(stream.send({ data: 'x' })).toBe(false);
    expect(getMetrics().refused).toBe(refusedBefore);
    expect(getMetrics().denied).toBe(deniedBefore + 1);
    expect(openStreamCount()).toBe(1);
    expect(first.closed).toBe(false);
  });

  test('an allowed Origin gets the CORS headers, with credentials when asked', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, allowOrigins: [APP], credentials: true });
    const client = await connect(srv.port, { headers: { Origin: APP } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForHead();
    expect(client.reader.header('access-control-allow-origin')).toBe(APP);
    expect(client.reader.header('access-control-allow-credentials')).toBe('true');
    expect(client.reader.header('vary')).toBe('Origin');
    stream.send({ data: 'hi' });
    await client.waitForEvents(1);
  });

  test('no Origin header (same-origin EventSource, curl): let in, no CORS headers', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, allowOrigins: /^https:\/\/[a-z]+\.example$/ });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect((await client.waitForHead()).statusCode).toBe(200);
    expect(client.reader.header('access-control-allow-origin')).toBeUndefined();
    expect(stream.closed).toBe(false);
  });

  test('a RegExp and a function decide; the app\'s Vary is kept', async () => {
    const srv = await startSSE(
      (req) => ({ ...sinkOpts, heartbeatMs: 0, allowOrigins: req.url === '/re' ? /^https:\/\/[a-z]+\.example$/ : (o: string) => o.endsWith('.trusted') }),
      (_req, res) => res.setHeader('Vary', 'Accept-Encoding'),
    );
    const a = await connect(srv.port, { path: '/re', headers: { Origin: 'https://b.example' } });
    await srv.opened.next();
    expect((await a.waitForHead()).statusCode).toBe(200);
    expect(a.reader.header('vary')).toBe('Accept-Encoding, Origin');
    const b = await connect(srv.port, { path: '/re', headers: { Origin: 'https://b.example.evil' } });
    await srv.opened.next();
    expect((await b.waitForHead()).statusCode).toBe(403);
    const c = await connect(srv.port, { path: '/fn', headers: { Origin: 'https://x.trusted' } });
    await srv.opened.next();
    expect((await c.waitForHead()).statusCode).toBe(200);
    expect(c.reader.header('access-control-allow-origin')).toBe('https://x.trusted');
    const d = await connect(srv.port, { path: '/fn', headers: { Origin: 'null' } });
    await srv.opened.next();
    expect((await d.waitForHead()).statusCode).toBe(403);
  });
});

test('Express sse(): a refused Origin never reaches the handler', async () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const express = require('express') as () => http.RequestListener & { get(p: string, h: unknown): void };
  const app = express();
  const handled: string[] = [];
  app.get('/events', sse((stream, req) => {
    handled.push(String(req.headers.origin));
    stream.send({ data: 'in' });
  }, { allowOrigins: [APP], heartbeatMs: 0 }));
  const srv = await listen(http.createServer(app));
  const evil = await connect(srv.port, { path: '/events', headers: { Origin: 'https://evil.example' } });
  expect((await evil.waitForHead()).statusCode).toBe(403);
  const ok = await connect(srv.port, { path: '/events', headers: { Origin: APP } });
  await ok.waitForEvents(1);
  expect(ok.reader.header('access-control-allow-origin')).toBe(APP);
  expect(handled).toEqual([APP]);
});

describe('web streams', () => {
  test('an Origin not allowed: 403, the stream closed, no limit counted', async () => {
    setLimits({ maxConnections: getMetrics().connections });
    const request = new Request('http://localhost/events', { headers: { Origin: 'https://evil.example' } });
    const refusedBefore = getMetrics().refused;
    const { stream, sse: s } = createSSEStream({ request, allowOrigins: [APP], heartbeatMs: 0 });
    expect(s.closed).toBe(true);
    expect((s.closeReason as { code?: string }).code).toBe('SSE_FORBIDDEN');
    const res = sseResponse(stream);
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(getMetrics().refused).toBe(refusedBefore);
  });

  test('an allowed Origin: the CORS headers on sseResponse()', async () => {
    const request = new Request('http://localhost/events', { headers: { Origin: APP } });
    const { stream, sse: s } = createSSEStream({ request, allowOrigins: [APP], credentials: true, heartbeatMs: 0 });
    const res = sseResponse(stream);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toBe('Origin');
    s.close();
    await res.text();
    await eventually(() => s.closed, 'the stream to close');
  });
});

test('the option is checked, with errors that name the fix', () => {
  const bad = (o: object) => {
    try {
      createSSEStream(o);
    } catch (err) {
      return err as TypeError & { code: string };
    }
    throw new Error('no error');
  };
  const slash = bad({ allowOrigins: ['https://app.example/'] });
  expect(slash).toBeInstanceOf(TypeError);
  expect(slash.code).toBe('ERR_INVALID_ARG_VALUE');
  expect(slash.message).toContain('"https://app.example"');
  expect(bad({ allowOrigins: 'https://app.example' }).code).toBe('ERR_INVALID_ARG_TYPE');
  expect(bad({ allowOrigins: ['*'], credentials: true }).message).toMatch(/list the origins/);
  expect(bad({ credentials: true }).message).toMatch(/needs `allowOrigins`/);
});

test('corsPreflight: 204 with the Access-Control-Allow-* headers for an allowed Origin, 403 for another; other methods pass', async () => {
  const opts = { allowOrigins: [APP], credentials: true };
  const opened = new Queue<SSEStream>();
  const srv = await startHttp((req, res) => {
    if (corsPreflight(req, res, opts)) return;
    opened.push(createSSEStream(req, res, { ...opts, heartbeatMs: 0 }));
  });
  const pre = await connect(srv.port, {
    method: 'OPTIONS',
    headers: { Origin: APP, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
  });
  await pre.waitForHead();
  expect(pre.head!.statusCode).toBe(204);
  expect(pre.reader.header('access-control-allow-origin')).toBe(APP);
  expect(pre.reader.header('access-control-allow-headers')).toBe('authorization');
  expect(pre.reader.header('access-control-allow-credentials')).toBe('true');
  expect(pre.reader.header('access-control-max-age')).toBe('600');
  const denied = await connect(srv.port, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
  expect((await denied.waitForHead()).statusCode).toBe(403);
  const get = await connect(srv.port, { headers: { Origin: APP } });
  await opened.next();
  expect((await get.waitForHead()).statusCode).toBe(200);

  const web = corsPreflightResponse(new Request('http://l/e', { method: 'OPTIONS', headers: { Origin: APP } }), { allowOrigins: [APP], allowHeaders: ['Authorization', 'Last-Event-ID'] });
  expect(web?.status).toBe(204);
  expect(web?.headers.get('access-control-allow-headers')).toBe('Authorization, Last-Event-ID');
  expect(corsPreflightResponse(new Request('http://l/e'), { allowOrigins: [APP] })).toBeUndefined();
});

test('Hono streamSSE on @hono/node-server: 403 for an Origin not allowed (cb not called), CORS headers for an allowed one', async () => {
  const app = new Hono();
  let calls = 0;
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      calls++;
      await stream.writeSSE({ data: 'hi' });
      stream.close();
    }, { allowOrigins: [APP], heartbeatMs: 0 }),
  );
  const srv = await listen(createAdaptorServer({ fetch: app.fetch }) as http.Server);
  const evil = await connect(srv.port, { path: '/events', headers: { Origin: 'https://evil.example' } });
  expect((await evil.waitForHead()).statusCode).toBe(403);
  const ok = await connect(srv.port, { path: '/events', headers: { Origin: APP } });
  await ok.waitForEvents(1);
  expect(ok.reader.header('access-control-allow-origin')).toBe(APP);
  expect(calls).toBe(1);
});

test('a refused request leaves no trace in the core figures (no stream opened and closed)', () => {
  const before = getMetrics();
  const { sse: s } = createSSEStream({ request: new Request('http://l/', { headers: { Origin: 'https://evil.example' } }), allowOrigins: [APP] });
  expect(s.closed).toBe(true);
  const after = getMetrics();
  expect(after.closes).toEqual(before.closes);
  expect(after.streamDuration.count).toBe(before.streamDuration.count);
  expect(s.stats.durationMs).toBe(0);
});

test('Fastify reply.sse() with allowOrigins in the plugin defaults: 403 for another Origin, Fastify logs nothing', async () => {
  const logs: string[] = [];
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
  await app.register(ssePlugin, { defaults: { allowOrigins: [APP], heartbeatMs: 0 } });
  const opened = new Queue<SSEStream>();
  app.get('/events', async (_request, reply) => {
    const stream = reply.sse();
    if (!stream.closed) stream.send({ data: 'in' });
    opened.push(stream);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const port = (app.server.address() as { port: number }).port;
    const evil = await connect(port, { path: '/events', headers: { Origin: 'https://evil.example' } });
    expect((await opened.next()).closed).toBe(true);
    expect((await evil.waitForHead()).statusCode).toBe(403);
    const ok = await connect(port, { path: '/events', headers: { Origin: APP } });
    const stream = await opened.next();
    await ok.waitForEvents(1);
    expect(ok.reader.header('access-control-allow-origin')).toBe(APP);
    stream.close();
    await ok.waitForEnd();
  } finally {
    await app.close();
  }
  expect(logs).toEqual([]);
});
