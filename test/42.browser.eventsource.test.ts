// Headless Chromium's own EventSource against our server, with each sink
// (adopted socket, res.write fallback, web ReadableStream through
// @hono/node-server): named events, ids, multi-line data, UTF-8, comments
// ignored, `retry`; then the server drops the connection and Chromium comes
// back with Last-Event-ID and gets the events replayed from that id. This is
// the proof that what we write is what browsers read.
import * as http from 'node:http';
import type { Browser } from 'playwright-core';
import { getRequestListener } from '@hono/node-server';
import type { SSEMessage } from '../lib/native/encoder';
import { createSSEStream, listenSSE, type SSEServer, type SSEStream } from '../lib/index';
import { sseResponse, type WebSSEStreamOptions } from '../lib/adapters/web';
import { haveChromium, launchChromium } from './browser/chromium';
import { BOUND_MS, listen, useTestEnv } from './helpers/server';

const PAGE = `<!doctype html><meta charset="utf-8"><title>sse</title><script>
  window.__log = [];
  const es = new EventSource('/events');
  const log = (type, e) => window.__log.push(e && 'data' in e ? { type, data: e.data, lastEventId: e.lastEventId } : { type, readyState: es.readyState });
  es.onopen = () => log('open');
  es.onerror = () => log('error');
  for (const t of ['message', 'chunk', 'end']) es.addEventListener(t, (e) => log(t, e));
  es.addEventListener('end', () => { es.close(); window.__done = true; });
</script>`;

// Everything the "application" ever sent, by id: what a replay ring keeps.
// Here the test server replays by hand (ids chosen by the app, one event
// without an id); test/59 does the same through the hub's replay ring.
const LOG: SSEMessage[] = [
  { event: 'chunk', id: '1', data: { content: 'Hello' } },
  { id: '2', data: 'line one\nline two\n\nafter a blank line' },
  { event: 'chunk', data: '🚀 héllo 中文 (no id: lastEventId stays 2)' },
  { event: 'chunk', id: '3', data: '[DONE]' },
  // Sent while the client was away; replayed after its Last-Event-ID.
  { event: 'chunk', id: '4', data: { content: 'missed' } },
  { id: '5', data: 'missed too' },
];
const FIRST = 4; // events sent on the first connection

// What Chromium's EventSource logs for play(), whatever the server.
const EXPECTED_LOG = [
  { type: 'open', readyState: 1 },
  { type: 'chunk', data: '{"content":"Hello"}', lastEventId: '1' },
  { type: 'message', data: 'line one\nline two\n\nafter a blank line', lastEventId: '2' },
  { type: 'chunk', data: '🚀 héllo 中文 (no id: lastEventId stays 2)', lastEventId: '2' },
  { type: 'chunk', data: '[DONE]', lastEventId: '3' },
  // The server dropped the connection: Chromium reconnects (readyState CONNECTING).
  { type: 'error', readyState: 0 },
  { type: 'open', readyState: 1 },
  { type: 'chunk', data: '{"content":"missed"}', lastEventId: '4' },
  { type: 'message', data: 'missed too', lastEventId: '5' },
  { type: 'end', data: 'bye', lastEventId: '5' },
];

const maybe = haveChromium ? describe : describe.skip;

let browser: Browser | undefined;
beforeAll(async () => {
  if (haveChromium) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
useTestEnv();

type Variant = [string, (lastEventIdSeen: (string | undefined)[]) => http.RequestListener];

// The stream's behaviour, whatever sink it writes to.
function play(sse: SSEStream, send: (m: SSEMessage) => boolean, close: () => void): void {
  if (sse.lastEventId === undefined) {
    for (const m of LOG.slice(0, FIRST)) {
      send(m);
      if (m.id === '1') sse.comment('a comment, ignored by the browser');
    }
    // The 60 s of the options is replaced: Chromium is back within the test's bound only if it read this.
    send({ retry: 200 });
    close(); // the server drops the connection
  } else {
    const from = LOG.findIndex((m) => m.id === sse.lastEventId);
    for (const m of LOG.slice(from + 1)) send(m);
    send({ event: 'end', data: 'bye' });
  }
}

function nodeHandler(adopt: boolean, seen: (string | undefined)[]): http.RequestListener {
  return (req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    if (req.url !== '/events') return void res.writeHead(404).end();
    seen.push(req.headers['last-event-id'] as string | undefined);
    const sse = createSSEStream(req, res, { adopt, retry: 60_000 });
    expect(sse.sinkKind).toBe(adopt ? 'adopted' : 'response');
    play(sse, (m) => sse.send(m), () => sse.close());
  };
}

function webHandler(seen: (string | undefined)[]): http.RequestListener {
  return getRequestListener((request: Request) => {
    const path = new URL(request.url).pathname;
    if (path === '/') return new Response(PAGE, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
    if (path !== '/events') return new Response(null, { status: 404 });
    seen.push(request.headers.get('last-event-id') ?? undefined);
    const opts: WebSSEStreamOptions = { request, retry: 60_000 };
    const { stream, send, close, sse } = createSSEStream(opts);
    play(sse, send, close);
    return sseResponse(stream);
  });
}

const variants: Variant[] = [
  ['adopted', (seen) => nodeHandler(true, seen)],
  ['response (adopt: false)', (seen) => nodeHandler(false, seen)],
  ['web (ReadableStream via @hono/node-server)', (seen) => webHandler(seen)],
];

maybe.each(variants)("Chromium's EventSource, %s sink", (_name, handler) => {
  test('reads every field, reconnects with Last-Event-ID and gets the replay', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await listen(http.createServer(handler(seen)));
    const page = await browser!.newPage();
    try {
      await page.goto(`http://127.0.0.1:${srv.port}/`, { timeout: BOUND_MS });
      await page.waitForFunction(() => (window as unknown as { __done?: boolean }).__done === true, undefined, {
        timeout: BOUND_MS,
      });
      const log = await page.evaluate(() => (window as unknown as { __log: unknown[] }).__log);
      expect(seen).toEqual([undefined, '3']);
      expect(log).toEqual(EXPECTED_LOG);
    } finally {
      await page.close();
    }
  });
});

// listenSSE(): the core accepts the connection and parses the head itself
// (engine 'core' on the addon, node:http on the TypeScript backend); the
// page is a plain req.respond().
maybe("Chromium's EventSource, listenSSE()", () => {
  let server: SSEServer | undefined;
  afterEach(async () => {
    await server?.close();
  });
  test('reads every field, reconnects with Last-Event-ID and gets the replay', async () => {
    const seen: (string | undefined)[] = [];
    server = await listenSSE({ host: '127.0.0.1' }, (req) => {
      if (req.url === '/') return void req.respond(200, PAGE, { 'Content-Type': 'text/html; charset=utf-8' });
      if (req.url !== '/events') return;
      seen.push(req.headers['last-event-id']);
      const sse = req.accept({ retry: 60_000 });
      play(sse, (m) => sse.send(m), () => sse.close());
    });
    const page = await browser!.newPage();
    try {
      await page.goto(`http://127.0.0.1:${server.port}/`, { timeout: BOUND_MS });
      await page.waitForFunction(() => (window as unknown as { __done?: boolean }).__done === true, undefined, {
        timeout: BOUND_MS,
      });
      const log = await page.evaluate(() => (window as unknown as { __log: unknown[] }).__log);
      expect(seen).toEqual([undefined, '3']);
      expect(log).toEqual(EXPECTED_LOG);
    } finally {
      await page.close();
    }
  });
});

if (!haveChromium) {
  test.skip('Chromium is not installed (apt-get install chromium; see scripts/ensure-deps.sh)', () => undefined);
}
