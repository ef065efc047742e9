// EventSource (Node) against real servers on 127.0.0.1: createSSEStream
// servers (both sinks) for the protocol, hand-written res.write servers for
// the faults (bad status, wrong type, 204, dropped connection, redirects,
// split UTF-8). Every wait is bounded; every client is closed after each test.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventSource, SSEContentTypeError, SSEErrorEvent, SSEHttpError, SSENetworkError } from '../lib/node-client';
import { SINKS, Queue, eventually, startHttp, startSSE, within, type Opened, useTestEnv } from './helpers/server';

const clients: EventSource[] = [];
useTestEnv(async () => {
  for (const c of clients.splice(0)) c.close();
});

/** A client closed after the test. */
function open(url: string, init?: ConstructorParameters<typeof EventSource>[1]): EventSource {
  const es = new EventSource(url, init);
  clients.push(es);
  return es;
}

/** Records what a client reports, in order. */
function watch(es: EventSource, named: string[] = []) {
  const log: string[] = [];
  const messages = new Queue<MessageEvent>();
  const errors = new Queue<SSEErrorEvent>();
  const opens = new Queue<Event>();
  es.onopen = (e) => {
    log.push('open');
    opens.push(e);
  };
  es.onmessage = (e) => {
    log.push(`message:${e.data}`);
    messages.push(e);
  };
  es.onerror = (e) => {
    log.push(`error:${es.readyState}`);
    errors.push(e);
  };
  for (const name of named) {
    es.addEventListener(name, (e) => {
      log.push(`${name}:${(e as MessageEvent).data}`);
      messages.push(e as MessageEvent);
    });
  }
  return { log, messages, errors, opens };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A hand-written SSE response head. */
function sseHead(res: ServerResponse, status = 200, type = 'text/event-stream'): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
  res.flushHeaders();
}

describe('the WHATWG interface', () => {
  test('constants, url, withCredentials, and a bad URL is a SyntaxError', async () => {
    const srv = await startSSE({});
    const es = open(`http://127.0.0.1:${srv.port}/a?b=1`, { withCredentials: true });
    expect([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED]).toEqual([0, 1, 2]);
    expect([es.CONNECTING, es.OPEN, es.CLOSED]).toEqual([0, 1, 2]);
    expect(es.url).toBe(`http://127.0.0.1:${srv.port}/a?b=1`);
    expect(es.withCredentials).toBe(true);
    expect(es.readyState).toBe(EventSource.CONNECTING);
    expect(() => new EventSource('not a url')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new EventSource('ftp://127.0.0.1/')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new EventSource('http://127.0.0.1/', { retry: -1 })).toThrow(TypeError);
    es.close();
    expect(es.readyState).toBe(EventSource.CLOSED);
    es.close(); // idempotent
  });
});

describe.each(SINKS)('against createSSEStream, %s sink', (kind, sinkOpts) => {
  test('open, unnamed and named events, ids, multi-line data, comments ignored, close()', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    const es = open(`http://127.0.0.1:${srv.port}/events`);
    const w = watch(es, ['chunk', 'done']);
    const { stream, req } = await srv.opened.next('the request');
    expect(stream.sinkKind).toBe(kind);
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.headers['last-event-id']).toBeUndefined();
    await w.opens.next('open');
    expect(es.readyState).toBe(EventSource.OPEN);

    stream.comment('ignored');
    stream.send({ data: 'plain' });
    stream.send({ event: 'chunk', data: { content: 'Hello' }, id: '1' });
    stream.send({ data: 'line one\nline two' });
    stream.send({ event: 'done', data: '[DONE]', id: '2' });
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await w.messages.next(`message ${i}`));
    const origin = `http://127.0.0.1:${srv.port}`;
    expect(got.map((e) => [e.type, e.data, e.lastEventId, e.origin])).toEqual([
      ['message', 'plain', '', origin],
      ['chunk', '{"content":"Hello"}', '1', origin],
      ['message', 'line one\nline two', '1', origin],
      ['done', '[DONE]', '2', origin],
    ]);
    expect(es.lastEventId).toBe('2');
    expect(w.log).toEqual(['open', 'message:plain', 'chunk:{"content":"Hello"}', 'message:line one\nline two', 'done:[DONE]']);

    const closed = new Promise((r) => stream.once('close', r));
    es.close();
    expect(es.readyState).toBe(EventSource.CLOSED);
    await within(closed, 'the server stream to see the client leave');
    expect(w.log.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  test('the server closes: error (CONNECTING), then a reconnect after `retry` with Last-Event-ID', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    // A default reconnection time no test would wait for: only the server's retry brings it back.
    const es = open(`http://127.0.0.1:${srv.port}/`, { retry: 600_000 });
    const w = watch(es);
    const first = await srv.opened.next('the first request');
    first.stream.send({ retry: 20 });
    first.stream.send({ data: 'a', id: '1' });
    first.stream.send({ data: 'b', id: '7' });
    expect((await w.messages.next()).data).toBe('a');
    expect((await w.messages.next()).data).toBe('b');
    first.stream.close();

    const err = await w.errors.next('the error event');
    expect(err.error).toBeUndefined(); // a normal end is not an error, only a reconnect
    expect(w.log[w.log.length - 1]).toBe(`error:${EventSource.CONNECTING}`);
    const second: Opened = await srv.opened.next('the reconnect');
    expect(second.req.headers['last-event-id']).toBe('7');
    expect(second.stream.lastEventId).toBe('7');
    second.stream.send({ data: 'c', id: '8' });
    const c = await w.messages.next();
    expect([c.data, c.lastEventId]).toEqual(['c', '8']);
    expect(w.log).toEqual(['open', 'message:a', 'message:b', 'error:0', 'open', 'message:c']);
  });
});

describe('faults (hand-written servers)', () => {
  test('the connection drops mid-body: SSENetworkError, reconnect with Last-Event-ID', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await startHttp((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      sseHead(res);
      if (seen.length === 1) {
        res.write('retry: 10\nid: 41\ndata: one\n\nid: 42\ndata: two\n\n', () => setImmediate(() => res.socket?.destroy()));
      } else {
        res.write('data: three\n\n');
      }
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const w = watch(es);
    expect((await w.messages.next()).data).toBe('one');
    expect((await w.messages.next()).data).toBe('two');
    const err = await w.errors.next('the error event');
    expect(err.error).toBeInstanceOf(SSENetworkError);
    const three = await w.messages.next('the message after reconnecting');
    expect([three.data, three.lastEventId]).toEqual(['three', '42']);
    expect(seen).toEqual([undefined, '42']);
  });

  test('a refused connection is retried (CONNECTING, SSENetworkError), not failed', async () => {
    const srv = await startHttp(() => {});
    const port = srv.port;
    await srv.close();
    const es = open(`http://127.0.0.1:${port}/`, { retry: 5 });
    const w = watch(es);
    const e1 = await w.errors.next('the first error');
    expect(e1.error).toBeInstanceOf(SSENetworkError);
    expect(es.readyState).toBe(EventSource.CONNECTING);
    await w.errors.next('the second error (it retried)');
    expect(es.readyState).toBe(EventSource.CONNECTING);
    es.close();
    expect(es.readyState).toBe(EventSource.CLOSED);
  });

  test.each([
    [500, 'text/event-stream', SSEHttpError],
    [404, 'text/plain', SSEHttpError],
    [204, 'text/event-stream', SSEHttpError],
    [200, 'text/plain', SSEContentTypeError],
    [200, 'application/json', SSEContentTypeError],
  ])('status %i with %s fails the connection: CLOSED, one error, no reconnect', async (status, type, kind) => {
    let requests = 0;
    const srv = await startHttp((_req, res) => {
      requests++;
      res.writeHead(status, { 'Content-Type': type });
      res.end(status === 204 ? undefined : 'data: never\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`, { retry: 0 });
    const w = watch(es);
    const err = await w.errors.next('the error event');
    expect(es.readyState).toBe(EventSource.CLOSED);
    expect(err.error).toBeInstanceOf(kind);
    if (kind === SSEHttpError) {
      expect(err.code).toBe(status);
      expect((err.error as SSEHttpError).status).toBe(status);
    } else {
      expect((err.error as SSEContentTypeError).contentType).toBe(type);
    }
    await pause(50); // with retry 0, a reconnect would already have happened
    expect(requests).toBe(1);
    expect(w.log).toEqual([`error:${EventSource.CLOSED}`]);
  });

  test('Content-Type with parameters and other case is accepted', async () => {
    const srv = await startHttp((_req, res) => {
      sseHead(res, 200, 'Text/Event-Stream; charset=utf-8');
      res.write('data: ok\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const w = watch(es);
    expect((await w.messages.next()).data).toBe('ok');
  });

  test('redirects are followed; origin is the final one; credentials stay same-origin only', async () => {
    const finalReqs: IncomingMessage[] = [];
    const target = await startHttp((req, res) => {
      finalReqs.push(req);
      sseHead(res);
      res.write(`data: from ${req.url}\n\n`);
    });
    const front = await startHttp((req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { Location: '/moved' });
        res.end();
      } else if (req.url === '/moved') {
        res.writeHead(307, { Location: `http://localhost:${target.port}/final` });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const es = open(`http://127.0.0.1:${front.port}/start`, { headers: { Authorization: 'Bearer t', 'X-Trace': 'abc' } });
    const w = watch(es);
    const m = await w.messages.next('the event after two redirects');
    expect(m.data).toBe('from /final');
    expect(m.origin).toBe(`http://localhost:${target.port}`);
    expect(es.url).toBe(`http://127.0.0.1:${front.port}/start`);
    expect(finalReqs[0].headers['x-trace']).toBe('abc');
    expect(finalReqs[0].headers.authorization).toBeUndefined();
  });

  test('init.headers are sent with Accept and Cache-Control', async () => {
    const srv = await startSSE({});
    open(`http://127.0.0.1:${srv.port}/`, { headers: { Authorization: 'Bearer t' } });
    const { req } = await srv.opened.next();
    expect(req.headers.authorization).toBe('Bearer t');
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.headers['cache-control']).toBe('no-cache');
  });

  test('UTF-8 split across TCP writes, CRLF and CR line ends', async () => {
    const bytes = Buffer.from('data: 🚀 é 中\r\n\r\nevent: x\rdata: ü\r\r', 'utf8');
    const srv = await startHttp((_req, res) => {
      sseHead(res);
      let at = 0;
      const next = () => {
        if (at >= bytes.length) return;
        res.write(bytes.subarray(at, at + 3));
        at += 3;
        setTimeout(next, 2);
      };
      next();
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const w = watch(es, ['x']);
    expect((await w.messages.next()).data).toBe('🚀 é 中');
    const x = await w.messages.next();
    expect([x.type, x.data]).toEqual(['x', 'ü']);
  });

  test('close() inside onmessage: no further event, no reconnect', async () => {
    let requests = 0;
    const srv = await startHttp((_req, res) => {
      requests++;
      sseHead(res);
      res.end('retry: 0\ndata: 1\n\ndata: 2\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const got: string[] = [];
    es.onmessage = (e) => {
      got.push(e.data);
      es.close();
    };
    await eventually(() => got.length > 0, 'the first message');
    await pause(50);
    expect(got).toEqual(['1']);
    expect(requests).toBe(1);
  });

  test('close() in onerror while waiting to reconnect stops it', async () => {
    let requests = 0;
    const srv = await startHttp((_req, res) => {
      requests++;
      sseHead(res);
      res.end('retry: 0\ndata: 1\n\n');
    });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const errors = new Queue<Event>();
    es.onerror = (e) => {
      es.close();
      errors.push(e);
    };
    await errors.next();
    await pause(50);
    expect(requests).toBe(1);
    expect(es.readyState).toBe(EventSource.CLOSED);
  });

  test('onmessage set twice keeps its place; removeEventListener works', async () => {
    const srv = await startSSE({ heartbeatMs: 0 });
    const es = open(`http://127.0.0.1:${srv.port}/`);
    const log: string[] = [];
    const listener = (e: Event) => log.push(`listener:${(e as MessageEvent).data}`);
    es.onmessage = () => log.push('first');
    es.addEventListener('message', listener);
    es.onmessage = (e) => log.push(`handler:${e.data}`);
    const { stream } = await srv.opened.next();
    stream.send({ data: 'a' });
    await eventually(() => log.length === 2, 'two calls');
    es.removeEventListener('message', listener);
    es.onmessage = null;
    expect(es.onmessage).toBeNull();
    stream.send({ data: 'b' });
    es.addEventListener('message', () => log.push('end'));
    await eventually(() => log.length === 3, 'the last call');
    expect(log).toEqual(['handler:a', 'listener:a', 'end']);
  });

  test('init.fetch: connects through the given fetch', async () => {
    const srv = await startSSE({ heartbeatMs: 0 });
    let calls = 0;
    const es = open(`http://127.0.0.1:${srv.port}/f`, {
      fetch: (url, init) => {
        calls++;
        return fetch(url, init);
      },
    });
    const w = watch(es);
    const { stream, req } = await srv.opened.next();
    expect(req.headers.accept).toBe('text/event-stream');
    stream.send({ data: 'via fetch', id: '5' });
    const m = await w.messages.next();
    expect([m.data, m.lastEventId]).toEqual(['via fetch', '5']);
    expect(calls).toBe(1);
  });
});
