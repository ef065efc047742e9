// authorize(req) (issue 11, security controls): sync or async, run before
// adoption and before any limit counts. true lets the request in; false
// answers 401; { status, headers } that 4xx; a throw 403 (the error is
// closeReason.cause). No stream opens for a refused request.
// createSSEStream() needs a synchronous answer; acceptSSEStream() awaits an
// async one. node:http (both sinks), Express sse() and web streams.
import * as http from 'node:http';
import { acceptSSEStream, createSSEStream, getMetrics, setLimits, sseResponse, type SSEStream } from '../lib/index';
import { sse } from '../lib/adapters/express';
import { openStreamCount } from '../lib/stream/stream';
import { Queue, SINKS, connect, eventually, listen, startHttp, useTestEnv } from './helpers/server';

useTestEnv();
afterEach(() => setLimits({}));

const sessions = new Map([['s3cret', 'ada']]);
function sessionOf(req: http.IncomingMessage): string | undefined {
  const m = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '');
  return m ? sessions.get(m[1]) : undefined;
}

describe.each(SINKS)('node:http, %s sink', (kind, sinkOpts) => {
  test('sync: true opens, false is 401, a refusal object its status and headers, a throw 403', async () => {
    const opened = new Queue<SSEStream>();
    const srv = await startHttp((req, res) => {
      opened.push(
        createSSEStream(req, res, {
          ...sinkOpts,
          heartbeatMs: 0,
          authorize: (r) => {
            if (r.url === '/throw') throw new Error('token expired');
            if (r.url === '/forbid') return { status: 403, headers: { 'X-Why': 'plan' }, message: 'upgrade your plan' };
            if (r.url === '/bearer') return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
            return sessionOf(r) !== undefined;
          },
        }),
      );
    });
    const ok = await connect(srv.port, { headers: { Cookie: 'sid=s3cret' } });
    const okStream = await opened.next();
    expect((await ok.waitForHead()).statusCode).toBe(200);
    expect(okStream.sinkKind).toBe(kind);

    const cases: [string, Record<string, string>, number, string][] = [
      ['/', { Cookie: 'sid=wrong' }, 401, 'SSE_UNAUTHORIZED'],
      ['/forbid', {}, 403, 'SSE_FORBIDDEN'],
      ['/bearer', {}, 401, 'SSE_UNAUTHORIZED'],
      ['/throw', {}, 403, 'SSE_FORBIDDEN'],
    ];
    for (const [path, headers, status, code] of cases) {
      const c = await connect(srv.port, { path, headers });
      const s = await opened.next();
      expect((await c.waitForHead()).statusCode).toBe(status);
      expect(s.closed).toBe(true);
      expect((s.closeReason as { code?: string }).code).toBe(code);
      await c.waitFor((x) => x.reader.bodyText.length > 0 || x.ended, 'the refusal body');
      if (path === '/forbid') {
        expect(c.reader.header('x-why')).toBe('plan');
        await c.waitFor((x) => x.reader.bodyText.includes('upgrade your plan'), 'the message');
      }
      if (path === '/bearer') expect(c.reader.header('www-authenticate')).toBe('Bearer');
      if (path === '/throw') expect(((s.closeReason as Error & { cause?: Error }).cause as Error).message).toBe('token expired');
    }
    expect(openStreamCount()).toBe(1);
  });

  test('async with acceptSSEStream: nothing counts while authorize runs, a refusal is not a limit refusal', async () => {
    setLimits({ maxConnections: 1 });
    const opened = new Queue<SSEStream>();
    let asked = 0;
    const srv = await startHttp(async (req, res) => {
      const stream = await acceptSSEStream(req, res, {
        ...sinkOpts,
        heartbeatMs: 0,
        authorize: async (r) => {
          asked++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          // While a (slow) authorize runs, nothing was counted.
          if (openStreamCount() > 1) throw new Error('counted before authorize settled');
          return sessionOf(r) !== undefined;
        },
      });
      opened.push(stream);
    });
    const refusedBefore = getMetrics().refused;
    const ok = await connect(srv.port, { headers: { Cookie: 'sid=s3cret' } });
    const okStream = await opened.next();
    expect((await ok.waitForHead()).statusCode).toBe(200);
    okStream.send({ data: 'for ada' });
    await ok.waitForEvents(1);
    // The one slot is taken: an unauthenticated client still gets 401, not 503.
    const anon = await connect(srv.port);
    const anonStream = await opened.next();
    expect((await anon.waitForHead()).statusCode).toBe(401);
    expect((anonStream.closeReason as { code?: string }).code).toBe('SSE_UNAUTHORIZED');
    expect(getMetrics().refused).toBe(refusedBefore);
    expect(asked).toBe(2);
  });

  test('createSSEStream with an async authorize: a TypeError naming acceptSSEStream, nothing written', async () => {
    const errors = new Queue<Error & { code?: string }>();
    const srv = await startHttp((req, res) => {
      try {
        createSSEStream(req, res, { ...sinkOpts, authorize: async () => true });
      } catch (err) {
        errors.push(err as Error);
        res.statusCode = 500;
        res.end('handled');
      }
    });
    const c = await connect(srv.port);
    const err = await errors.next();
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_RETURN_VALUE');
    expect(err.message).toContain('acceptSSEStream');
    expect((await c.waitForHead()).statusCode).toBe(500);
  });
});

test('Express sse() awaits an async authorize (cookie session); refused requests never reach the handler', async () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const express = require('express') as () => http.RequestListener & { get(p: string, h: unknown): void };
  const app = express();
  const users: string[] = [];
  app.get(
    '/events',
    sse(
      (stream, req) => {
        users.push(sessionOf(req)!);
        stream.send({ data: `hello ${sessionOf(req)}` });
      },
      { heartbeatMs: 0, authorize: async (req) => sessionOf(req) !== undefined },
    ),
  );
  const srv = await listen(http.createServer(app));
  const anon = await connect(srv.port, { path: '/events' });
  expect((await anon.waitForHead()).statusCode).toBe(401);
  const ada = await connect(srv.port, { path: '/events', headers: { Cookie: 'sid=s3cret' } });
  await ada.waitForEvents(1);
  expect(ada.events[0].data).toBe('hello ada');
  expect(users).toEqual(['ada']);
});

describe('web streams', () => {
  const bearer = (request: Request) => request.headers.get('authorization') === 'Bearer t0ken';

  test('sync authorize: 401 from sseResponse(), the stream closed; a good token opens', async () => {
    const bad = createSSEStream({ request: new Request('http://localhost/e'), authorize: bearer, heartbeatMs: 0 });
    expect(bad.sse.closed).toBe(true);
    expect(sseResponse(bad.stream).status).toBe(401);
    const good = createSSEStream({ request: new Request('http://localhost/e', { headers: { Authorization: 'Bearer t0ken' } }), authorize: bearer, heartbeatMs: 0 });
    expect(good.sse.closed).toBe(false);
    const res = sseResponse(good.stream);
    expect(res.status).toBe(200);
    good.send({ data: 'x' });
    good.close();
    expect(await res.text()).toBe('data: x\n\n');
  });

  test('async authorize with acceptSSEStream({ request })', async () => {
    const slow = async (request: Request) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (request.headers.get('authorization') === 'Bearer revoked') return { status: 403 };
      return bearer(request);
    };
    const revoked = await acceptSSEStream({ request: new Request('http://l/e', { headers: { Authorization: 'Bearer revoked' } }), authorize: slow });
    expect(sseResponse(revoked.stream).status).toBe(403);
    expect((revoked.sse.closeReason as { code?: string }).code).toBe('SSE_FORBIDDEN');
    const ok = await acceptSSEStream({ request: new Request('http://l/e', { headers: { Authorization: 'Bearer t0ken' } }), authorize: slow, heartbeatMs: 0 });
    expect(ok.sse.closed).toBe(false);
    await ok.stream.cancel();
    await eventually(() => ok.sse.closed, 'the stream to close');
  });

  test('authorize needs the request; bad types are TypeErrors', () => {
    expect(() => createSSEStream({ authorize: () => true })).toThrow(/needs the `request` option/);
    expect(() => createSSEStream({ request: new Request('http://l/'), authorize: 'yes' as never })).toThrow(TypeError);
  });
});
