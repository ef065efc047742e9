/**
 * @jest-environment jsdom
 */
// useSSEStream under jsdom with React Testing Library, against a real
// node:http server on 127.0.0.1 that reads the POSTed prompt and pipes a
// fake model's OpenAI-shaped chunks (sse.pipe). The hook is given
// sse-native/client's fetchEventSource (jsdom has no fetch); the browser
// build is exercised in Chromium by test/94.react.use-sse-stream.browser.test.ts.
import * as http from 'node:http';
import { StrictMode, createElement as h } from 'react';
import { act, cleanup as unmountAll, render, waitFor } from '@testing-library/react';
import { fetchEventSource, SSEHttpError } from '../lib/node-client';
import { useSSEStream, type TypedSSEStreamResult, type UseSSEStreamOptions, type UseSSEStreamResult } from '../lib/react/index';
import { createSSEStream, type SSEStream } from '../lib/index';
import { BOUND_MS, Queue, listen, useTestEnv, within } from './helpers/server';

// jsdom has no setImmediate.
const turn = () => new Promise((r) => setTimeout(r, 0));

// jsdom's own Uint8Array is not the one Node's sockets hand out (see test 44).
(globalThis as { Uint8Array: unknown }).Uint8Array = Object.getPrototypeOf(Buffer.prototype).constructor;
// Nor does jsdom have TextDecoder (the client decodes error bodies with it): Node's.
Object.assign(globalThis, { TextDecoder: require('node:util').TextDecoder, TextEncoder: require('node:util').TextEncoder });

beforeAll(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
});
useTestEnv(async () => {
  unmountAll();
  await new Promise((r) => setTimeout(r, 5));
});

interface Request {
  method: string;
  body: unknown;
  headers: http.IncomingHttpHeaders;
  sse: SSEStream;
  /** Set when the model generator's finally ran. */
  stopped: () => boolean;
}

/** A chat server: answers each POST by streaming the prompt's words back, then [DONE]. */
async function start(opts: { status?: number; gate?: boolean } = {}) {
  const requests = new Queue<Request>();
  let count = 0;
  // Gate mode: each token waits for a permit from release().
  let permits = 0;
  let waiting: (() => void) | undefined;
  const permit = (): Promise<void> => {
    if (permits > 0) {
      permits--;
      return Promise.resolve();
    }
    return new Promise<void>((r) => (waiting = () => (permits--, r())));
  };
  const release = () => {
    permits++;
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const srv = await listen(
    http.createServer((req, res) => {
      count++;
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        if (opts.status !== undefined) {
          res.writeHead(opts.status, { 'Content-Type': 'application/json' });
          return void res.end('{"error":"overloaded"}');
        }
        const text = Buffer.concat(parts).toString('utf8');
        const body = text === '' ? undefined : JSON.parse(text);
        const sse = createSSEStream(req, res);
        let stopped = false;
        const words: string[] = (body?.prompt ?? 'no prompt').split(/(?= )/);
        async function* model() {
          try {
            for (const w of words) {
              await new Promise((r) => setTimeout(r, 0));
              if (opts.gate) await permit();
              yield { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w }, finish_reason: null }] };
            }
          } finally {
            stopped = true;
          }
        }
        requests.push({ method: req.method!, body, headers: req.headers, sse, stopped: () => stopped });
        void sse.pipe(model(), { map: (c, i) => ({ id: String(i + 1), data: c }), done: '[DONE]' });
      });
    }),
  );
  return { url: `http://127.0.0.1:${srv.port}/v1/chat`, requests, count: () => count, release };
}

function mount(url: string, options: UseSSEStreamOptions) {
  const seen: { r?: UseSSEStreamResult; renders: number } = { renders: 0 };
  const Probe = () => {
    seen.r = useSSEStream(url, { fetchEventSource, ...options });
    seen.renders++;
    return null;
  };
  const r = render(h(StrictMode, null, h(Probe)));
  return { seen, unmount: r.unmount };
}

const until = (pred: () => void) => waitFor(pred, { timeout: BOUND_MS });

describe('useSSEStream (jsdom, a real server)', () => {
  test('start() POSTs the body; text grows; [DONE] ends it: status done, onDone once; a second start() is a new request', async () => {
    const srv = await start();
    const statuses: string[] = [];
    const done: string[] = [];
    const { seen } = mount(srv.url, {
      body: { prompt: 'Hello there, world' },
      headers: { authorization: 'Bearer t' },
      onDone: (t) => done.push(t),
    });
    expect(seen.r!.status).toBe('idle');
    expect(srv.count()).toBe(0); // nothing on mount
    act(() => seen.r!.start());
    statuses.push(seen.r!.status);
    const req = await srv.requests.next();
    expect(req.method).toBe('POST');
    expect(req.body).toEqual({ prompt: 'Hello there, world' });
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer t');
    expect(req.headers.accept).toBe('text/event-stream');
    await until(() => expect(seen.r!.status).toBe('done'));
    expect(statuses).toEqual(['connecting']);
    expect(seen.r!.text).toBe('Hello there, world');
    expect(seen.r!.events.map((e) => e.id)).toEqual(['1', '2', '3']);
    expect(seen.r!.events[0]).toEqual({ event: 'message', id: '1', data: { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }] } });
    expect(seen.r!.lastEventId).toBe('3');
    expect(seen.r!.error).toBeNull();
    expect(done).toEqual(['Hello there, world']);
    // The hook stopped reading at [DONE]: the server sees the client leave.
    await within(new Promise((r) => (req.sse.closed ? r(undefined) : req.sse.once('close', r))), 'the server to see the request end');

    act(() => seen.r!.start({ body: { prompt: 'Second answer' } }));
    expect(seen.r!.text).toBe('');
    const req2 = await srv.requests.next();
    expect(req2.body).toEqual({ prompt: 'Second answer' });
    await until(() => expect(seen.r!.status).toBe('done'));
    expect(seen.r!.text).toBe('Second answer');
    expect(srv.count()).toBe(2);
    expect(done).toEqual(['Hello there, world', 'Second answer']);
  });

  test('abort(): the server sees the client leave and its generator stops; text so far kept, status idle', async () => {
    const srv = await start({ gate: true });
    const { seen } = mount(srv.url, { body: { prompt: 'one two three four' } });
    act(() => seen.r!.start());
    const req = await srv.requests.next();
    srv.release();
    await until(() => expect(seen.r!.text).toBe('one'));
    expect(seen.r!.status).toBe('streaming');
    act(() => seen.r!.abort());
    expect(seen.r!.status).toBe('idle');
    await within(new Promise((r) => (req.sse.closed ? r(undefined) : req.sse.once('close', r))), 'the server to see the client leave');
    srv.release();
    await until(() => expect(req.stopped()).toBe(true));
    for (let i = 0; i < 5; i++) await turn();
    expect(seen.r!.text).toBe('one');
    expect(seen.r!.status).toBe('idle');
  });

  test('unmounting aborts the request in flight', async () => {
    const srv = await start({ gate: true });
    const { seen, unmount } = mount(srv.url, { body: { prompt: 'a b c' } });
    act(() => seen.r!.start());
    const req = await srv.requests.next();
    unmount();
    await within(new Promise((r) => (req.sse.closed ? r(undefined) : req.sse.once('close', r))), 'the server to see the client leave');
    srv.release();
    await until(() => expect(req.stopped()).toBe(true));
  });

  test('an error status: status error with the SSEHttpError, onError once, no retry of the POST', async () => {
    const srv = await start({ status: 503 });
    const errors: unknown[] = [];
    const { seen } = mount(srv.url, { body: { prompt: 'x' }, onError: (e) => errors.push(e) });
    act(() => seen.r!.start());
    await until(() => expect(seen.r!.status).toBe('error'));
    expect(seen.r!.error).toBeInstanceOf(SSEHttpError);
    expect((seen.r!.error as SSEHttpError).status).toBe(503);
    expect(errors).toHaveLength(1);
    for (let i = 0; i < 5; i++) await turn();
    expect(srv.count()).toBe(1);
  });

  test('text option, parse text, named events, autoStart; bad options are TypeErrors from start()', async () => {
    const srv = await start();
    const { seen } = mount(srv.url, {
      body: { prompt: 'x y' },
      parse: 'text',
      text: (e) => `[${(JSON.parse(e.data as string) as { choices: { delta: { content: string } }[] }).choices[0].delta.content}]`,
      autoStart: true,
    });
    await until(() => expect(seen.r!.status).toBe('done'));
    expect(seen.r!.text).toBe('[x][ y]');
    expect(typeof seen.r!.events[0].data).toBe('string');
    const bad = mount(srv.url, { parse: 'yaml' as never });
    expect(() => bad.seen.r!.start()).toThrow(/`parse` must be 'json' or 'text'/);
    const bad2 = mount(srv.url, { done: 5 as never });
    expect(() => bad2.seen.r!.start()).toThrow(/`done` must be a string/);
  });
});

test('json: true: events, done, text and onEvent see typed { event, data, id }', async () => {
  type Events = { token: { text: string }; done: string };
  const srv = await listen(
    http.createServer((req, res) => {
      const sse = createSSEStream<Events>(req, res, { heartbeatMs: 0 });
      sse.send({ event: 'token', data: { text: 'Hel' }, id: '1' });
      sse.send({ event: 'token', data: { text: 'lo' }, id: '2' });
      sse.send({ event: 'done', data: 'ok' });
    }),
  );
  const seen: string[] = [];
  let latest: TypedSSEStreamResult<Events> | undefined;
  const Probe = () => {
    latest = useSSEStream<Events>(`http://127.0.0.1:${srv.port}/chat`, {
      json: true,
      autoStart: true,
      fetchEventSource,
      done: (ev) => ev.event === 'done',
      text: (ev) => (ev.event === 'token' ? ev.data.text : undefined),
      onEvent: (ev) => seen.push(ev.event === 'token' ? ev.data.text : ev.data),
    });
    return null;
  };
  render(h(StrictMode, null, h(Probe)));
  await waitFor(() => expect(latest!.status).toBe('done'), { timeout: BOUND_MS });
  expect(latest!.text).toBe('Hello');
  expect(latest!.events).toEqual([
    { event: 'token', data: { text: 'Hel' }, id: '1' },
    { event: 'token', data: { text: 'lo' }, id: '2' },
  ]);
  expect(seen).toEqual(['Hel', 'lo']); // the done event ends the stream and is not kept
});
