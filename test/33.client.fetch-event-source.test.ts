// fetchEventSource against real servers on 127.0.0.1: POST bodies, headers
// per attempt, retries on 5xx / network errors / 429 with Last-Event-ID,
// typed errors on 4xx and wrong types, 204, redirects, abort, onerror's
// choices. Bounded waits only; every stream is aborted or ended per test.
import type { IncomingMessage } from 'node:http';
import {
  SSEContentTypeError,
  SSEHttpError,
  SSENetworkError,
  SSERetriesExhaustedError,
  fetchEventSource,
  type EventSourceMessage,
  type FetchEventSourceInit,
} from '../lib/node-client';
import { backoffDelay } from '../lib/client/fetch-event-source';
import { SINKS, Queue, startHttp, startSSE, within, useTestEnv } from './helpers/server';

const controllers: AbortController[] = [];
useTestEnv(async () => {
  for (const c of controllers.splice(0)) c.abort();
});

/** An AbortController aborted after the test. */
function controller(): AbortController {
  const ac = new AbortController();
  controllers.push(ac);
  return ac;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** fetchEventSource with fast, exact retries (no jitter) unless the test says otherwise. */
function run(url: string, init: FetchEventSourceInit = {}): Promise<void> {
  return within(fetchEventSource(url, { retryDelay: 1, jitter: 0, ...init }), 'fetchEventSource to settle');
}

const ev = (data: string, event?: string, id?: string): EventSourceMessage => ({ data, event, id });

describe.each(SINKS)('against createSSEStream, %s sink', (kind, sinkOpts) => {
  test('POST with a JSON body: onopen, onmessage in order, onclose, resolves', async () => {
    const bodies: string[] = [];
    const srv = await startHttp(async (req, res) => {
      bodies.push(await readBody(req));
      const { createSSEStream } = await import('../lib/index');
      const sse = createSSEStream(req, res, { ...sinkOpts, heartbeatMs: 0 });
      expect(sse.sinkKind).toBe(kind);
      sse.send({ event: 'chunk', data: { content: 'Hel' }, id: '1' });
      sse.send({ event: 'chunk', data: { content: 'lo' }, id: '2' });
      sse.send({ data: 'multi\nline' });
      sse.send({ event: 'done', data: '[DONE]' });
      sse.close();
    });
    const log: unknown[] = [];
    await run(`http://127.0.0.1:${srv.port}/v1/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'Hello' }),
      onopen: (r) => {
        log.push(['open', r.status, r.headers.get('content-type')]);
      },
      onmessage: (m) => {
        log.push(m);
      },
      onclose: () => {
        log.push('close');
      },
      onerror: (e) => {
        log.push(['error', e]);
      },
    });
    expect(bodies).toEqual(['{"prompt":"Hello"}']);
    expect(log).toEqual([
      ['open', 200, 'text/event-stream; charset=utf-8'],
      ev('{"content":"Hel"}', 'chunk', '1'),
      ev('{"content":"lo"}', 'chunk', '2'),
      ev('multi\nline'),
      ev('[DONE]', 'done'),
      'close',
    ]);
  });

  test('json: true: onmessage gets { event, data, id } with data decoded by the server rule', async () => {
    type Events = { chunk: { content: string }; done: string; message: string };
    const srv = await startHttp(async (req, res) => {
      const { createSSEStream } = await import('../lib/index');
      const sse = createSSEStream<Events>(req, res, { ...sinkOpts, heartbeatMs: 0 });
      sse.send({ event: 'chunk', data: { content: 'Hel' }, id: '1' });
      sse.send({ event: 'message', data: 'multi\nline' });
      sse.send({ event: 'done', data: '[DONE]' });
      sse.close();
    });
    const log: unknown[] = [];
    await within(
      fetchEventSource<Events>(`http://127.0.0.1:${srv.port}/`, {
        json: true,
        retryDelay: 1,
        onmessage: (m) => {
          if (m.event === 'chunk') log.push(m.data.content);
          log.push(m);
        },
      }),
      'fetchEventSource to settle',
    );
    expect(log).toEqual([
      'Hel',
      { event: 'chunk', data: { content: 'Hel' }, id: '1' },
      { event: 'message', data: 'multi\nline', id: undefined },
      { event: 'done', data: '[DONE]', id: undefined },
    ]);
    await expect(fetchEventSource(`http://127.0.0.1:${srv.port}/`, { json: 'yes' as unknown as true })).rejects.toThrow('`json` must be true or false, got yes');
  });

  test('abort via signal mid-stream: resolves, and the server sees the client leave', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    const ac = controller();
    const got = new Queue<EventSourceMessage>();
    const done = run(`http://127.0.0.1:${srv.port}/`, { signal: ac.signal, onmessage: (m) => got.push(m) });
    const { stream } = await srv.opened.next();
    stream.send({ data: 'x' });
    expect((await got.next()).data).toBe('x');
    const left = new Promise((r) => stream.once('close', r));
    ac.abort();
    await done;
    await within(left, 'the server stream to close');
  });
});

describe('retries', () => {
  test('500 then 200: onerror gets SSEHttpError with the body; headers() is called per attempt', async () => {
    const seen: { auth?: string; id?: string }[] = [];
    const srv = await startHttp((req, res) => {
      seen.push({ auth: req.headers.authorization, id: req.headers['last-event-id'] as string | undefined });
      if (seen.length === 1) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"error":"overloaded"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end('data: ok\n\n');
    });
    let token = 0;
    const errors: unknown[] = [];
    const got: string[] = [];
    await run(`http://127.0.0.1:${srv.port}/`, {
      headers: async () => ({ Authorization: `Bearer ${++token}` }),
      onmessage: (m) => {
        got.push(m.data);
      },
      onerror: (e) => {
        errors.push(e);
      },
    });
    expect(seen).toEqual([{ auth: 'Bearer 1' }, { auth: 'Bearer 2' }]);
    expect(got).toEqual(['ok']);
    expect(errors).toHaveLength(1);
    const e = errors[0] as SSEHttpError;
    expect(e).toBeInstanceOf(SSEHttpError);
    expect([e.status, e.statusText, e.body, e.code]).toEqual([500, 'Internal Server Error', '{"error":"overloaded"}', 'SSE_HTTP']);
  });

  test('the connection drops: SSENetworkError, retry after the server `retry` with Last-Event-ID', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await startHttp((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (seen.length === 1) {
        // Chunked: the cut is visible to the client as a broken body.
        res.write('retry: 5\nid: 9\ndata: a\n\n', () => setImmediate(() => res.socket?.destroy()));
      } else {
        res.end('id: 10\ndata: b\n\n');
      }
    });
    const errors: unknown[] = [];
    const got: EventSourceMessage[] = [];
    // A client default no test would wait for: only the server's retry makes it come back in time.
    await run(`http://127.0.0.1:${srv.port}/`, {
      retryDelay: 600_000,
      onmessage: (m) => {
        got.push(m);
      },
      onerror: (e) => {
        errors.push(e);
      },
    });
    expect(seen).toEqual([undefined, '9']);
    expect(got).toEqual([ev('a', undefined, '9'), ev('b', undefined, '10')]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SSENetworkError);
    expect((errors[0] as SSENetworkError).cause).toBeDefined();
  });

  test('429 with Retry-After is retried after it', async () => {
    let n = 0;
    const srv = await startHttp((_req, res) => {
      if (++n === 1) {
        res.writeHead(429, { 'Retry-After': '0' });
        res.end('slow down');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end('data: ok\n\n');
    });
    const errors: SSEHttpError[] = [];
    await run(`http://127.0.0.1:${srv.port}/`, { retryDelay: 600_000, onerror: (e) => void errors.push(e as SSEHttpError) });
    expect(errors.map((e) => [e.status, e.retryAfterMs, e.body])).toEqual([[429, 0, 'slow down']]);
    expect(n).toBe(2);
  });

  test('a refused connection is retried until maxRetries, then SSERetriesExhaustedError', async () => {
    const srv = await startHttp(() => {});
    const port = srv.port;
    await srv.close();
    const errors: unknown[] = [];
    const p = run(`http://127.0.0.1:${port}/`, { maxRetries: 2, onerror: (e) => void errors.push(e) });
    const err = (await p.catch((e: unknown) => e)) as SSERetriesExhaustedError;
    expect(err).toBeInstanceOf(SSERetriesExhaustedError);
    expect(err.attempts).toBe(3);
    expect(err.cause).toBeInstanceOf(SSENetworkError);
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e instanceof SSENetworkError)).toBe(true);
  });

  test('abort while waiting to retry resolves at once', async () => {
    const srv = await startHttp((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const ac = controller();
    const p = fetchEventSource(`http://127.0.0.1:${srv.port}/`, {
      signal: ac.signal,
      retryDelay: 600_000,
      onerror: () => {
        setImmediate(() => ac.abort());
      },
    });
    await within(p, 'the promise to resolve after abort');
  });

  test('an aborted signal before the start: resolves without a request', async () => {
    let requests = 0;
    const srv = await startHttp(() => void requests++);
    const ac = controller();
    ac.abort();
    await run(`http://127.0.0.1:${srv.port}/`, { signal: ac.signal });
    expect(requests).toBe(0);
  });
});

describe('stops', () => {
  test.each([400, 401, 403, 404])('%i rejects with SSEHttpError after one request', async (status) => {
    let requests = 0;
    const srv = await startHttp((_req, res) => {
      requests++;
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end('x'.repeat(5000));
    });
    const errors: unknown[] = [];
    const err = (await run(`http://127.0.0.1:${srv.port}/`, { onerror: (e) => void errors.push(e) }).catch((e: unknown) => e)) as SSEHttpError;
    expect(err).toBeInstanceOf(SSEHttpError);
    expect(err.status).toBe(status);
    expect(err.body).toBe('x'.repeat(1024)); // a snippet, not the whole body
    expect(errors).toEqual([err]);
    expect(requests).toBe(1);
  });

  test('wrong Content-Type rejects with SSEContentTypeError', async () => {
    const srv = await startHttp((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    const err = (await run(`http://127.0.0.1:${srv.port}/`).catch((e: unknown) => e)) as SSEContentTypeError;
    expect(err).toBeInstanceOf(SSEContentTypeError);
    expect([err.contentType, err.code]).toEqual(['application/json', 'SSE_CONTENT_TYPE']);
  });

  test('204 resolves without onopen, onmessage or onerror', async () => {
    let requests = 0;
    const srv = await startHttp((_req, res) => {
      requests++;
      res.writeHead(204);
      res.end();
    });
    const calls: string[] = [];
    await run(`http://127.0.0.1:${srv.port}/`, {
      onopen: () => void calls.push('open'),
      onmessage: () => void calls.push('message'),
      onerror: () => void calls.push('error'),
      onclose: () => void calls.push('close'),
    });
    expect(calls).toEqual([]);
    expect(requests).toBe(1);
  });

  test('onerror returning a delay retries a 401 (token refresh); throwing stops with what it threw', async () => {
    const auths: (string | undefined)[] = [];
    const srv = await startHttp((req, res) => {
      auths.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer fresh') {
        res.writeHead(401);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end('data: in\n\n');
    });
    let token = 'stale';
    const got: string[] = [];
    await run(`http://127.0.0.1:${srv.port}/`, {
      headers: () => ({ Authorization: `Bearer ${token}` }),
      onmessage: (m) => void got.push(m.data),
      onerror: (e) => {
        if (e instanceof SSEHttpError && e.status === 401) {
          token = 'fresh';
          return 0;
        }
        throw e;
      },
    });
    expect(auths).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(got).toEqual(['in']);

    const stop = new Error('stop');
    const err = await run(`http://127.0.0.1:${srv.port}/`, {
      headers: { Authorization: 'Bearer stale' },
      onerror: () => {
        throw stop;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(stop);
  });

  test('onmessage that throws rejects with its error (and the connection is closed)', async () => {
    const srv = await startSSE({ heartbeatMs: 0 });
    const boom = new Error('boom');
    const p = run(`http://127.0.0.1:${srv.port}/`, {
      onmessage: () => {
        throw boom;
      },
    });
    const { stream } = await srv.opened.next();
    const left = new Promise((r) => stream.once('close', r));
    stream.send({ data: 'x' });
    await expect(p).rejects.toBe(boom);
    await within(left, 'the server stream to see the client leave');
  });

  test('bad options are TypeErrors', async () => {
    await expect(fetchEventSource('http://127.0.0.1:1/', { jitter: 2 })).rejects.toThrow(/jitter/);
    await expect(fetchEventSource('http://127.0.0.1:1/', { retryDelay: -1 })).rejects.toThrow(/retryDelay/);
    await expect(fetchEventSource('http://127.0.0.1:1/', { onmessage: 1 as never })).rejects.toThrow(TypeError);
  });
});

describe('redirects and bodies', () => {
  test('307 keeps POST and its body; 303 turns it into a GET without a body', async () => {
    const seen: [string, string, string][] = [];
    const srv = await startHttp(async (req, res) => {
      const body = await readBody(req);
      seen.push([req.method!, req.url!, body]);
      if (req.url === '/a') {
        res.writeHead(307, { Location: '/b' });
        res.end();
      } else if (req.url === '/b') {
        res.writeHead(303, { Location: '/c' });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.end('data: done\n\n');
      }
    });
    const got: string[] = [];
    await run(`http://127.0.0.1:${srv.port}/a`, { method: 'POST', body: 'payload', onmessage: (m) => void got.push(m.data) });
    expect(seen).toEqual([
      ['POST', '/a', 'payload'],
      ['POST', '/b', 'payload'],
      ['GET', '/c', ''],
    ]);
    expect(got).toEqual(['done']);
  });

  test('async onmessage pauses reading until it settles (order kept)', async () => {
    const srv = await startHttp((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      let s = '';
      for (let i = 0; i < 200; i++) s += `data: ${i}\n\n`;
      res.end(s);
    });
    const got: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await run(`http://127.0.0.1:${srv.port}/`, {
      onmessage: async (m) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        got.push(Number(m.data));
        inFlight--;
      },
    });
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // All events of one chunk start together; the next chunk waits for them.
    expect(inFlight).toBe(0);
    expect(maxInFlight).toBeGreaterThan(0);
  });
});

describe('backoff', () => {
  test('doubles per failure in a row from the base, capped, jitter takes off up to its fraction', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 1000, 10_000, 0, 0.9))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(3, 1000, 30_000, 0.5, 0)).toBe(4000);
    expect(backoffDelay(3, 1000, 30_000, 0.5, 0.5)).toBe(3000);
    expect(backoffDelay(3, 1000, 30_000, 1, 0.75)).toBe(1000);
    expect(backoffDelay(1e4, 1000, 30_000, 0, 0)).toBe(30_000);
  });
});
