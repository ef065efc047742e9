// Issue 11, client defects 9-12, against real servers on 127.0.0.1 (and
// custom fetch functions for 11): a buffer limit that stops a runaway line
// (and lets a junk line through without holding it), UTF-8 Last-Event-ID,
// one clear failure for a response without a readable body, and backoff
// when a `retry: 0` server ends every response. Delays are only ever
// checked from below (a timer never fires early), never from above.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  EventSource,
  SSEBufferOverflowError,
  SSEErrorEvent,
  SSEHttpError,
  SSEInvalidResponseError,
  events,
  fetchEventSource,
} from '../lib/node-client';
import { fetchEventSource as browserFetchEventSource } from '../lib/client/browser';
import { kDefaultMaxBufferSize } from '../lib/client/options';
import { Queue, eventually, startHttp, within, useTestEnv } from './helpers/server';

const clients: EventSource[] = [];
const aborts: AbortController[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));
useTestEnv(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const a of aborts.splice(0)) a.abort();
  expect(unhandled.splice(0)).toEqual([]);
});

function open(url: string, init?: ConstructorParameters<typeof EventSource>[1]): EventSource {
  const es = new EventSource(url, init);
  clients.push(es);
  return es;
}

function controller(): AbortController {
  const ac = new AbortController();
  aborts.push(ac);
  return ac;
}

function sseHead(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
}

/** Writes `total` bytes of `byte` in 64 KiB pieces, respecting backpressure, until the client goes. */
function pump(res: ServerResponse, total: number, byte = 'x'): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, byte);
  let sent = 0;
  return new Promise((resolve) => {
    const more = () => {
      while (sent < total && !res.destroyed) {
        sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      resolve(sent);
    };
    res.on('close', () => resolve(sent));
    more();
  });
}

describe('defect 9: maxBufferSize', () => {
  test('EventSource: a data line that never ends fails the source (CLOSED) with SSEBufferOverflowError naming the option', async () => {
    const gone = new Queue<number>();
    const srv = await startHttp((req, res) => {
      sseHead(res);
      res.write('data: ');
      void pump(res, 1 << 20);
      req.on('close', () => gone.push(1));
    });
    const es = open(`http://127.0.0.1:${srv.port}/`, { maxBufferSize: 64 * 1024 });
    const errors = new Queue<SSEErrorEvent>();
    es.onerror = (e) => errors.push(e);
    const ev = await errors.next('the overflow error');
    expect(ev.error).toBeInstanceOf(SSEBufferOverflowError);
    expect(ev.error!.code).toBe('SSE_BUFFER_OVERFLOW');
    expect(ev.message).toMatch(/maxBufferSize \(65536 bytes\).*`maxBufferSize` option/);
    expect((ev.error as SSEBufferOverflowError).maxBufferSize).toBe(65536);
    expect(es.readyState).toBe(EventSource.CLOSED);
    expect(ev.reconnectMs).toBeUndefined();
    await gone.next('the server to see the client leave');
  });

  test(`EventSource: the default limit is ${kDefaultMaxBufferSize} bytes`, async () => {
    const srv = await startHttp((_req, res) => {
      sseHead(res);
      res.write('data: ');
      void pump(res, kDefaultMaxBufferSize + (1 << 20));
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const errors = new Queue<SSEErrorEvent>();
    es.onerror = (e) => errors.push(e);
    const ev = await errors.next('the overflow error');
    expect((ev.error as SSEBufferOverflowError).maxBufferSize).toBe(8 * 1024 * 1024);
    expect(es.readyState).toBe(EventSource.CLOSED);
  });

  test('EventSource: a 16 MiB line that cannot be a field is dropped, not held: the next event arrives', async () => {
    const srv = await startHttp(async (_req, res) => {
      sseHead(res);
      res.write('data: before\n\n');
      await pump(res, 16 << 20, 'j');
      res.write('\n: a comment longer than the limit ' + 'c'.repeat(100_000) + '\ndata: after\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`, { maxBufferSize: 64 * 1024 });
    const got = new Queue<string>();
    const errors: SSEErrorEvent[] = [];
    es.onmessage = (e) => got.push(e.data);
    es.onerror = (e) => void errors.push(e);
    expect(await got.next()).toBe('before');
    expect(await got.next('the event after the junk line')).toBe('after');
    expect(errors).toEqual([]);
  });

  test('fetchEventSource and events(): SSEBufferOverflowError, once (not retried)', async () => {
    let connections = 0;
    const srv = await startHttp((_req, res) => {
      connections++;
      sseHead(res);
      res.write('data: ');
      void pump(res, 1 << 20);
    });
    const url = `http://127.0.0.1:${srv.port}/`;
    const err = await within(fetchEventSource(url, { maxBufferSize: 4096, retryDelay: 1 }).catch((e) => e), 'rejection');
    expect(err).toBeInstanceOf(SSEBufferOverflowError);
    expect(connections).toBe(1);
    const it = events(url, { maxBufferSize: 4096 });
    await expect(within(it.next(), 'events() to throw')).rejects.toBeInstanceOf(SSEBufferOverflowError);
    const viaFetch = await within(browserFetchEventSource(url, { maxBufferSize: 4096 }).catch((e) => e), 'rejection');
    expect(viaFetch).toBeInstanceOf(SSEBufferOverflowError); // fetch + the TypeScript parser
    expect(connections).toBe(3);
  });

  test('a bad maxBufferSize is a TypeError naming the option', async () => {
    for (const bad of [0, -1, 1.5, NaN, '1024']) {
      expect(() => new EventSource('http://127.0.0.1:1/', { maxBufferSize: bad as number })).toThrow(/`maxBufferSize`/);
      await expect(fetchEventSource('http://127.0.0.1:1/', { maxBufferSize: bad as number })).rejects.toThrow(TypeError);
    }
    expect(() => open('http://127.0.0.1:1/', { maxBufferSize: Infinity, retry: 600_000 })).not.toThrow();
  });
});

describe('defect 10: a non-Latin-1 Last-Event-ID', () => {
  const id = 'résumé…😀';

  // Node hands header values over as latin1: the raw bytes, to decode as UTF-8.
  const sentId = (req: IncomingMessage) => {
    const h = req.headers['last-event-id'];
    return typeof h === 'string' ? Buffer.from(h, 'latin1').toString('utf8') : undefined;
  };

  test.each([
    ['node:http', undefined],
    ['a custom fetch', (input: string, init: RequestInit) => fetch(input, init)],
  ])('EventSource over %s sends it UTF-8 encoded and keeps working', async (_name, fetchImpl) => {
    const ids = new Queue<string | undefined>();
    const srv = await startHttp((req, res) => {
      ids.push(sentId(req));
      sseHead(res);
      res.end(`retry: 1\nid: ${id}\ndata: x\n\n`);
    });
    const es = open(`http://127.0.0.1:${srv.port}/`, fetchImpl ? { fetch: fetchImpl } : {});
    expect(await ids.next()).toBeUndefined();
    expect(await ids.next('the reconnect')).toBe(id);
    expect(await ids.next('a second reconnect')).toBe(id);
    expect(es.lastEventId).toBe(id);
  });

  test('fetchEventSource sends it on retries (node:http and fetch)', async () => {
    for (const fetchImpl of [undefined, (input: string, init: RequestInit) => fetch(input, init)]) {
      const ids: (string | undefined)[] = [];
      const srv = await startHttp((req, res) => {
        ids.push(sentId(req));
        sseHead(res);
        if (ids.length < 3) {
          res.write(`id: ${id}\ndata: x\n\n`, () => setImmediate(() => res.socket?.destroy()));
        } else res.end();
      });
      await within(fetchEventSource(`http://127.0.0.1:${srv.port}/`, { retryDelay: 1, jitter: 0, fetch: fetchImpl }), 'the stream to end');
      expect(ids).toEqual([undefined, id, id]);
      await srv.close();
    }
  });

  test('an id with a control character is not sent (it cannot be a header) and does not break reconnecting', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await startHttp((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      sseHead(res);
      res.end('retry: 1\nid: a\x01b\ndata: x\n\n');
    });
    open(`http://127.0.0.1:${srv.port}/`);
    await eventually(() => seen.length >= 3, 'three connections');
    expect(seen.slice(0, 3)).toEqual([undefined, undefined, undefined]);
  });
});

describe('defect 11: a custom fetch whose response has no readable body', () => {
  const sseHeaders = () => new Headers({ 'content-type': 'text/event-stream' });
  const cases: [string, () => unknown][] = [
    ['a null body', () => new Response(null, { status: 200, headers: sseHeaders() })],
    ['a string body', () => ({ status: 200, statusText: 'OK', headers: sseHeaders(), body: 'data: x\n\n' })],
    ['no body property', () => ({ status: 200, headers: sseHeaders() })],
    ['undefined instead of a Response', () => undefined],
  ];

  test.each(cases)('EventSource: %s fails once with SSEInvalidResponseError (CLOSED, fetch called once)', async (_name, make) => {
    let calls = 0;
    const fetchImpl = async () => {
      calls++;
      return make() as Response;
    };
    const es = open('http://127.0.0.1:1/', { fetch: fetchImpl, retry: 0 });
    const errors = new Queue<SSEErrorEvent>();
    es.onerror = (e) => errors.push(e);
    const ev = await errors.next();
    expect(ev.error).toBeInstanceOf(SSEInvalidResponseError);
    expect(ev.error!.code).toBe('SSE_INVALID_RESPONSE');
    expect(ev.message).toMatch(/cannot be read: .*the `fetch` option must resolve with a Response whose body is a ReadableStream/);
    expect(es.readyState).toBe(EventSource.CLOSED);
    await new Promise((r) => setTimeout(r, 50)); // with retry 0 a reconnect would have come
    expect(calls).toBe(1);
  });

  test('EventSource: a 500 with a string body is an SSEHttpError (no unhandled rejection, not left CONNECTING)', async () => {
    const fetchImpl = async () => ({ status: 500, statusText: 'Oops', headers: new Headers(), body: 'oops' }) as unknown as Response;
    const es = open('http://127.0.0.1:1/', { fetch: fetchImpl });
    const errors = new Queue<SSEErrorEvent>();
    es.onerror = (e) => errors.push(e);
    const ev = await errors.next();
    expect(ev.error).toBeInstanceOf(SSEHttpError);
    expect(ev.code).toBe(500);
    expect(es.readyState).toBe(EventSource.CLOSED);
  });

  test.each(cases)('fetchEventSource: %s rejects once with SSEInvalidResponseError', async (_name, make) => {
    let calls = 0;
    const fetchImpl = async () => {
      calls++;
      return make() as Response;
    };
    const err = await within(fetchEventSource('http://127.0.0.1:1/', { fetch: fetchImpl, retryDelay: 0 }).catch((e) => e), 'rejection');
    expect(err).toBeInstanceOf(SSEInvalidResponseError);
    expect(calls).toBe(1);
  });

  test('fetchEventSource: a 404 with a string body is an SSEHttpError', async () => {
    const fetchImpl = async () => ({ status: 404, statusText: 'Not Found', headers: new Headers(), body: 'nope' }) as unknown as Response;
    const err = await within(fetchEventSource('http://127.0.0.1:1/', { fetch: fetchImpl }).catch((e) => e), 'rejection');
    expect(err).toBeInstanceOf(SSEHttpError);
    expect(err.status).toBe(404);
  });

  test('a body that is an async iterable of bytes (node-fetch 2 style) is read', async () => {
    const fetchImpl = async () =>
      ({ status: 200, headers: sseHeaders(), body: Readable.from([Buffer.from('data: hi\n\n'), Buffer.from('data: there\n\n')]) }) as unknown as Response;
    const got: string[] = [];
    await within(fetchEventSource('http://127.0.0.1:1/', { fetch: fetchImpl, onmessage: (e) => void got.push(e.data) }), 'the stream');
    expect(got).toEqual(['hi', 'there']);
  });

  test('a body that yields strings is refused with SSEInvalidResponseError', async () => {
    const fetchImpl = async () => ({ status: 200, headers: sseHeaders(), body: Readable.from(['data: x\n\n'], { objectMode: true }) }) as unknown as Response;
    const err = await within(fetchEventSource('http://127.0.0.1:1/', { fetch: fetchImpl }).catch((e) => e), 'rejection');
    expect(err).toBeInstanceOf(SSEInvalidResponseError);
    expect(err.message).toMatch(/a string, not bytes/);
  });
});

describe('defect 12: retry: 0 and a server that ends every response', () => {
  test('EventSource reconnects at once the first time, then backs off (gaps of at least 500 ms, then 1 s)', async () => {
    const at: number[] = [];
    const srv = await startHttp((_req, res) => {
      at.push(performance.now());
      sseHead(res);
      res.end('retry: 0\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const planned: (number | undefined)[] = [];
    es.onerror = (e) => void planned.push(e.reconnectMs);
    await eventually(() => at.length >= 4, 'four connections');
    es.close();
    // Connection 2 came after retry (0); each failure in a row then doubles
    // from 250 ms: 500 ms before connection 3, 1 s before connection 4.
    expect(planned.slice(0, 3)).toEqual([0, 500, 1000]);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(490);
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(990);
  });

  test('EventSource: a connection that delivered an event ends the run (the next reconnect waits only `retry`)', async () => {
    const at: number[] = [];
    const srv = await startHttp((_req, res) => {
      at.push(performance.now());
      sseHead(res);
      // Empty responses make a run; the fourth carries an event.
      res.end(at.length === 4 ? 'retry: 0\ndata: x\n\n' : 'retry: 0\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const got = new Queue<string>();
    const planned: (number | undefined)[] = [];
    es.onmessage = (e) => got.push(e.data);
    es.onerror = (e) => void planned.push(e.reconnectMs);
    expect(await got.next()).toBe('x');
    await eventually(() => at.length >= 6, 'six connections');
    es.close();
    // A run of three, then the event: `retry` (0) again, then 500 ms.
    expect(planned.slice(0, 5)).toEqual([0, 500, 1000, 0, 500]);
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(990);
    expect(at[5] - at[4]).toBeGreaterThanOrEqual(490);
  });

  test('fetchEventSource: a server that sends retry: 0 and drops the connection gets backoff, not a spin', async () => {
    const at: number[] = [];
    const srv = await startHttp((_req, res) => {
      at.push(performance.now());
      sseHead(res);
      res.write('retry: 0\n\n', () => setImmediate(() => res.socket?.destroy()));
    });
    const ac = controller();
    const done = fetchEventSource(`http://127.0.0.1:${srv.port}/`, { signal: ac.signal, jitter: 0, retryDelay: 1 });
    await eventually(() => at.length >= 4, 'four attempts');
    ac.abort();
    await within(done, 'the abort');
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(490);
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(990);
  });
});
