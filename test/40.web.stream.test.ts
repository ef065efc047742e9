// The web sink: createSSEStream() with no request returns a ReadableStream of
// frames the core encoded. Read directly, and served for real by Hono
// (@hono/node-server) and by a node:http server piping a Response body as
// the Next.js App Router does; a client that leaves aborts the stream's signal.
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import { createParser, type EventSourceMessage } from '../lib/native/parser';
import { encodeEvent } from '../lib/native/encoder';
import { createSSEStream } from '../lib/index';
import { sseResponse, type WebSSEStream, type WebSSEStreamOptions } from '../lib/adapters/web';
import { Queue, connect, countCloses, eventually, listen, turn, useTestEnv, within } from './helpers/server';

useTestEnv();

const web = (opts: WebSSEStreamOptions = {}): WebSSEStream => createSSEStream(opts);

/** Reads the stream to its end and returns the bytes as text. */
async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await within(reader.read(), 'a chunk of the stream');
    if (done) break;
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts).toString('utf8');
}

function headersObject(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

function parse(text: string): { events: EventSourceMessage[]; comments: string[]; retries: number[] } {
  const out = { events: [] as EventSourceMessage[], comments: [] as string[], retries: [] as number[] };
  const p = createParser({
    onEvent: (e) => out.events.push(e),
    onComment: (c) => out.comments.push(c),
    onRetry: (ms) => out.retries.push(ms),
  });
  p.feed(text);
  return out;
}

describe('the web sink, read directly', () => {
  test('frames are the core encoder\'s bytes, retry first; close() ends after the queue is read', async () => {
    const { stream, send, close, sse } = web({ retry: 1500 });
    const closes = countCloses(sse);
    expect(sse.sinkKind).toBe('web');
    expect(send({ event: 'chunk', id: '1', data: { content: 'Hello' } })).toBe(true);
    expect(send({ data: 'line one\nline two' })).toBe(true);
    expect(sse.comment('ignored')).toBe(true);
    expect(send({ data: '[DONE]' })).toBe(true);
    close();
    expect(send({ data: 'after close' })).toBe(false);
    // Closing waits for the reader: nothing is lost, the signal is still live.
    expect(sse.signal.aborted).toBe(false);
    expect(closes.count()).toBe(0);
    const text = await readAll(stream);
    const expected = [
      encodeEvent({ retry: 1500 }),
      encodeEvent({ event: 'chunk', id: '1', data: { content: 'Hello' } }),
      encodeEvent({ data: 'line one\nline two' }),
      encodeEvent({ comment: 'ignored' }),
      encodeEvent({ data: '[DONE]' }),
    ];
    expect(text).toBe(Buffer.concat(expected).toString('utf8'));
    expect(closes.count()).toBe(1);
    expect(sse.closed).toBe(true);
    expect(sse.closeReason).toBeUndefined();
    expect(sse.signal.aborted).toBe(true);
  });

  test('sends of one synchronous run reach a waiting reader as one chunk', async () => {
    const { stream, send, close } = web();
    const reader = stream.getReader();
    const first = reader.read(); // waits: nothing queued yet
    await turn();
    for (let i = 0; i < 100; i++) send({ id: i, data: `token ${i}` });
    const { value } = await within(first, 'the first chunk');
    expect(parse(Buffer.from(value!).toString()).events).toHaveLength(100);
    close();
    expect((await within(reader.read(), 'the end')).done).toBe(true);
  });

  test('backpressure: false above highWaterMark, drain when the reader takes the queue', async () => {
    const { stream, send, sse } = web({ highWaterMark: 100, maxBuffered: 10_000, heartbeatMs: 0 });
    let drains = 0;
    sse.on('drain', () => drains++);
    const results: boolean[] = [];
    for (let i = 0; i < 5; i++) results.push(send({ data: 'x'.repeat(30) }));
    // 38 bytes a frame: the third one passes 100.
    expect(results).toEqual([true, true, false, false, false]);
    expect(sse.bufferedAmount).toBe(5 * 38);
    expect(drains).toBe(0);
    const reader = stream.getReader();
    const { value } = await within(reader.read(), 'the queued frames');
    expect(value!.length).toBe(5 * 38);
    // The core reports drain (as every notification) once per loop turn.
    await turn();
    expect(drains).toBe(1);
    expect(sse.bufferedAmount).toBe(0);
    expect(send({ data: 'again' })).toBe(true);
    await reader.cancel();
  });

  // A reader that never reads: judged after the flush tried to hand the
  // bytes over, once more than maxBuffered waits behind what it holds.
  test("maxBuffered with 'close': a reader that never reads is closed with a reason, and the stream errors", async () => {
    const { stream, send, sse } = web({ highWaterMark: 50, maxBuffered: 100, heartbeatMs: 0 });
    const closes = countCloses(sse);
    let turns = 0;
    while (!sse.closed && turns < 100) {
      send({ data: 'x'.repeat(40) }); // 48 bytes a turn
      await turn();
      turns++;
    }
    expect(sse.closed).toBe(true);
    expect(closes.count()).toBe(1);
    expect(sse.signal.aborted).toBe(true);
    expect(sse.closeReason?.message).toMatch(/slow consumer/);
    await expect(stream.getReader().read()).rejects.toThrow(/slow consumer/);
  });

  test("maxBuffered with 'drop': sends are dropped while the reader takes nothing, the stream stays open, nothing queued is lost", async () => {
    const { stream, send, sse, close } = web({ highWaterMark: 50, maxBuffered: 100, onSlowConsumer: 'drop', heartbeatMs: 0 });
    let drains = 0;
    sse.on('drain', () => drains++);
    const accepted: string[] = [];
    let dropped = 0;
    for (let i = 1; i <= 100 && dropped === 0; i++) {
      const before = sse.bufferedAmount;
      send({ id: i, data: 'x'.repeat(40) });
      if (sse.bufferedAmount === before) dropped = i;
      else accepted.push(String(i));
      await turn();
    }
    expect(dropped).toBeGreaterThan(0);
    expect(sse.closed).toBe(false);
    const reader = stream.getReader();
    let text = '';
    while (parse(text).events.length < accepted.length) {
      const { value } = await within(reader.read(), 'the queued frames');
      text += Buffer.from(value!).toString();
    }
    expect(parse(text).events.map((e) => e.id)).toEqual(accepted);
    await eventually(() => drains >= 1, "'drain' once the reader took the queue");
    expect(send({ id: 'after', data: 'after' })).toBe(true);
    const { value } = await within(reader.read(), 'the event after the drop');
    expect(parse(Buffer.from(value!).toString()).events.map((e) => e.id)).toEqual(['after']);
    reader.releaseLock();
    close();
    expect(await readAll(stream)).toBe('');
  });

  test('heartbeats: a keepalive comment after heartbeatMs without a write', async () => {
    const { stream, send, close } = web({ heartbeatMs: 20 });
    send({ data: 'first' });
    const reader = stream.getReader();
    let text = '';
    while (!text.includes(': keepalive')) {
      const { value } = await within(reader.read(), 'a keepalive');
      text += Buffer.from(value!).toString();
    }
    close();
    await reader.cancel();
    expect(parse(text).events.map((e) => e.data)).toEqual(['first']);
  });

  test('the reader cancelling (the client left) aborts the signal and emits close once', async () => {
    const { stream, send, sse } = web();
    const closes = countCloses(sse);
    send({ data: 'one' });
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel(new Error('gone'));
    expect(sse.signal.aborted).toBe(true);
    expect(sse.closeReason?.message).toMatch(/^client disconnected: stop work on stream.signal/);
    expect(closes.count()).toBe(1);
    expect(send({ data: 'two' })).toBe(false);
  });

  test('request: Last-Event-ID from the header or the query, and its signal closes the stream', async () => {
    const ac = new AbortController();
    const request = new Request('http://127.0.0.1/events?lastEventId=q', { headers: { 'Last-Event-ID': '42' }, signal: ac.signal });
    const a = web({ request });
    expect(a.sse.lastEventId).toBe('42');
    const q = web({ request: new Request('http://127.0.0.1/events?lastEventId=q') });
    expect(q.sse.lastEventId).toBe('q');
    await q.stream.cancel();
    const none = web({ request: new Request('http://127.0.0.1/events') });
    expect(none.sse.lastEventId).toBeUndefined();
    await none.stream.cancel();
    const closes = countCloses(a.sse);
    ac.abort();
    expect(a.sse.signal.aborted).toBe(true);
    expect(a.sse.closeReason?.message).toMatch(/^client disconnected: stop work on stream.signal/);
    expect(closes.count()).toBe(1);
    expect(await readAll(a.stream)).toBe('');
  });

  test('bad options and bad fields are TypeErrors', () => {
    expect(() => web({ highWaterMark: -1 })).toThrow(TypeError);
    expect(() => web({ request: 'x' as unknown as Request })).toThrow(/`request` must be a fetch Request/);
    const { send, stream } = web();
    expect(() => send({ id: 'a\nb', data: 1 })).toThrow(/`id` must not contain CR, LF or NUL/);
    return stream.cancel();
  });
});

describe('sseResponse', () => {
  test('the SSE headers and status 200', () => {
    const { stream, close } = web();
    const res = sseResponse(stream);
    expect(res.status).toBe(200);
    expect(headersObject(res.headers)).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    expect(res.body).toBe(stream);
    close();
    return res.text();
  });

  test('init adds and overrides headers, sets the status; Set-Cookie values are kept', () => {
    const { stream, close } = web();
    const headers = new Headers({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
    headers.append('Set-Cookie', 'a=1');
    headers.append('Set-Cookie', 'b=2');
    const res = sseResponse(stream, { status: 201, headers });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(() => sseResponse('nope' as unknown as ReadableStream<Uint8Array>)).toThrow(TypeError);
    close();
    return res.text();
  });

  test("createSSEStream's status and headers options reach sseResponse; init wins over them", () => {
    const { stream } = web({ status: 202, headers: { 'X-Room': 'a', 'Cache-Control': 'no-store', 'Set-Cookie': ['s=1', 't=2'] } });
    const res = sseResponse(stream, { headers: { 'X-Room': 'b' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-room')).toBe('b');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.getSetCookie()).toEqual(['s=1', 't=2']);
    expect(sseResponse(stream, { status: 200 }).status).toBe(200);
    return stream.cancel();
  });
});

describe('Hono (@hono/node-server)', () => {
  async function start(): Promise<{ port: number; opened: Queue<WebSSEStream> }> {
    const opened = new Queue<WebSSEStream>();
    const app = new Hono();
    app.get('/events', (c) => {
      const opts: WebSSEStreamOptions = { request: c.req.raw, retry: 2000 };
      const s = createSSEStream(opts);
      s.send({ event: 'hello', id: '1', data: { from: 'hono', lastEventId: s.sse.lastEventId ?? null } });
      opened.push(s);
      return sseResponse(s.stream, { headers: { 'Access-Control-Allow-Origin': 'https://app.example' } });
    });
    const srv = await listen(createAdaptorServer({ fetch: app.fetch }) as http.Server);
    return { port: srv.port, opened };
  }

  test('events arrive with the SSE head; close() ends the response', async () => {
    const { port, opened } = await start();
    const client = await connect(port, { path: '/events', headers: { 'Last-Event-ID': '7' } });
    const s = await opened.next();
    await client.waitForEvents(1);
    expect(client.head!.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.reader.header('cache-control')).toBe('no-cache, no-transform');
    expect(client.reader.header('x-accel-buffering')).toBe('no');
    expect(client.reader.header('access-control-allow-origin')).toBe('https://app.example');
    s.send({ event: 'chunk', id: '2', data: 'multi\nline' });
    s.sse.comment('ignored');
    s.send({ event: 'done', data: {} });
    const closes = countCloses(s.sse);
    s.close();
    await client.waitForEnd();
    expect(client.items).toEqual([
      { type: 'retry', ms: 2000 },
      { type: 'event', event: { event: 'hello', id: '1', data: '{"from":"hono","lastEventId":"7"}' } },
      { type: 'event', event: { event: 'chunk', id: '2', data: 'multi\nline' } },
      { type: 'comment', text: 'ignored' },
      { type: 'event', event: { event: 'done', id: undefined, data: '{}' } },
    ]);
    await eventually(() => closes.count() === 1, "the stream's close event");
    expect(s.sse.closeReason).toBeUndefined();
  });

  test('a client that stops reading: send() turns false once the socket is full, drain when it reads again', async () => {
    const { port, opened } = await start();
    const client = await connect(port, { path: '/events' });
    const s = await opened.next();
    await client.waitForEvents(1);
    client.socket.pause();
    const payload = 'x'.repeat(16 * 1024);
    let sent = 0;
    // One frame per turn, so the framework keeps pulling until Node's socket says stop.
    while (s.send({ id: ++sent, data: payload })) {
      if (sent > 4000) throw new Error('64 MB written and no backpressure');
      await turn();
    }
    expect(s.sse.bufferedAmount).toBeGreaterThan(64 * 1024);
    const drained = within(new Promise((r) => s.sse.once('drain', r)), "the stream's drain event");
    client.socket.resume();
    await drained;
    s.close();
    await client.waitForEnd();
    expect(client.events.length).toBe(1 + sent);
    expect(client.events[sent].id).toBe(String(sent));
  });

  test('the client going away aborts the signal and emits close once', async () => {
    const { port, opened } = await start();
    const client = await connect(port, { path: '/events' });
    const s = await opened.next();
    await client.waitForEvents(1);
    const closes = countCloses(s.sse);
    client.destroy();
    await within(new Promise((r) => s.sse.signal.addEventListener('abort', r)), 'the signal to abort');
    expect(s.sse.closeReason?.message).toMatch(/^client disconnected: stop work on stream.signal/);
    await turn();
    expect(closes.count()).toBe(1);
    expect(s.send({ data: 'late' })).toBe(false);
  });
});

describe('node:http piping a Response body (the Next.js App Router way)', () => {
  // What Next.js does with a route handler's Response on the Node runtime:
  // a Request whose signal aborts when the response closes early, the head
  // from the Response, the body piped, the reader cancelled on close.
  function serveFetch(handler: (req: Request) => Response | Promise<Response>): http.RequestListener {
    return async (req, res) => {
      const ac = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) ac.abort();
      });
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, signal: ac.signal });
      const response = await handler(request);
      res.writeHead(response.status, headersObject(response.headers));
      res.flushHeaders();
      if (response.body) {
        const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
        body.pipe(res);
        res.on('close', () => body.destroy());
      } else res.end();
    };
  }

  test('without `request`: events arrive, and the client leaving cancels the stream', async () => {
    const opened = new Queue<WebSSEStream>();
    const srv = await listen(
      http.createServer(
        serveFetch(() => {
          const s = web();
          s.send({ event: 'chunk', id: 'a', data: { content: 'Hi' } });
          opened.push(s);
          return sseResponse(s.stream);
        }),
      ),
    );
    const client = await connect(srv.port, { path: '/api/stream' });
    const s = await opened.next();
    await client.waitForEvents(1);
    expect(client.reader.header('connection')).toBe('keep-alive');
    expect(client.events).toEqual([{ event: 'chunk', id: 'a', data: '{"content":"Hi"}' }]);
    for (let i = 0; i < 3; i++) s.send({ data: i });
    await client.waitForEvents(4);
    const closes = countCloses(s.sse);
    client.destroy();
    await within(new Promise((r) => s.sse.signal.addEventListener('abort', r)), 'the signal to abort');
    expect(s.sse.closeReason?.message).toMatch(/^client disconnected: stop work on stream.signal/);
    expect(closes.count()).toBe(1);
  });

  test('the Next.js App Router example route streams a reply and ends', async () => {
    const { GET } = require('../examples/next-app-router/route') as { GET: (r: Request) => Promise<Response> };
    const srv = await listen(http.createServer(serveFetch(GET)));
    const client = await connect(srv.port, { path: '/api/chat/1/stream?prompt=two%20words' });
    await client.waitForEnd();
    expect(client.head!.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.items[0]).toEqual({ type: 'retry', ms: 3000 });
    expect(client.events.map((e) => [e.event, e.id, JSON.parse(e.data)])).toEqual([
      ['chunk', '1', { content: 'You ' }],
      ['chunk', '2', { content: 'said: ' }],
      ['chunk', '3', { content: 'two ' }],
      ['chunk', '4', { content: 'words ' }],
      ['done', undefined, {}],
    ]);
  });
});

jest.mock('sse-native', () => jest.requireActual('../lib/index'), { virtual: true });
