// useEventSource in a real page: React 19 from node_modules and lib/react/index.ts,
// bundled by test/browser/bundle.ts, in headless Chromium with its own
// EventSource, against our server (adopted sockets). Under StrictMode, two
// components on one URL open one connection, every event of a burst reaches
// onMessage, and the last unmount closes the connection.
import * as http from 'node:http';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createSSEStream, type SSEStream } from '../lib/index';
import { bundle } from './browser/bundle';
import { haveChromium, launchChromium } from './browser/chromium';
import { BOUND_MS, Queue, eventually, listen, useTestEnv, within } from './helpers/server';

const ROOT = path.resolve(__dirname, '..');

// The app: components A and B (same URL) under StrictMode; window.__unmount(name) removes one.
const APP = `
const { createElement: h, StrictMode, useState } = React;
window.__received = { A: [], B: [] };
window.__opens = { A: 0, B: 0 };
function Feed({ name }) {
  const r = SSEReact.useEventSource('/events', {
    events: ['chunk', 'error'],
    onMessage: (e, data) => window.__received[name].push([e.type, data, e.lastEventId]),
    onOpen: () => window.__opens[name]++,
  });
  return h('pre', { id: name }, JSON.stringify({ data: r.data, isConnected: r.isConnected, readyState: r.readyState,
    lastEventId: r.lastEventId, error: r.error ? String(r.error.type || r.error) : null }));
}
function App() {
  const [shown, setShown] = useState({ A: true, B: true });
  // flushSync: the unmount, and its effect cleanups, are done when this returns.
  window.__unmount = (name) => ReactDOM.flushSync(() => setShown((s) => ({ ...s, [name]: false })));
  return h('div', null, shown.A ? h(Feed, { name: 'A' }) : null, shown.B ? h(Feed, { name: 'B' }) : null);
}
ReactDOMClient.createRoot(document.getElementById('root')).render(h(StrictMode, null, h(App)));
`;

const maybe = haveChromium ? describe : describe.skip;
let browser: Browser | undefined;
let script: string | undefined;
beforeAll(async () => {
  if (!haveChromium) return;
  script = bundle({ React: 'react', ReactDOM: 'react-dom', ReactDOMClient: 'react-dom/client', SSEReact: path.join(ROOT, 'lib/react/index.ts') }, ROOT);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
useTestEnv();

async function start(): Promise<{ port: number; opened: Queue<SSEStream>; connections: () => number }> {
  const opened = new Queue<SSEStream>();
  let connections = 0;
  const srv = await listen(
    http.createServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return void res.end('<!doctype html><meta charset="utf-8"><div id="root"></div><script src="/bundle.js"></script><script src="/app.js"></script>');
      }
      if (req.url === '/bundle.js' || req.url === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        return void res.end(req.url === '/app.js' ? APP : script);
      }
      if (req.url !== '/events') return void res.writeHead(404).end();
      connections++;
      opened.push(createSSEStream(req, res));
    }),
  );
  return { port: srv.port, opened, connections: () => connections };
}

type Received = Record<'A' | 'B', [string, unknown, string][]>;
const received = (page: Page) => page.evaluate(() => (window as unknown as { __received: Received }).__received);
const shown = async (page: Page, name: string) => JSON.parse((await page.textContent(`#${name}`, { timeout: BOUND_MS }))!);

maybe('useEventSource in Chromium (StrictMode)', () => {
  test('one shared connection, every event of a burst, last unmount closes it', async () => {
    const { port, opened, connections } = await start();
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(`http://127.0.0.1:${port}/`, { timeout: BOUND_MS });
      const sse = await opened.next('the first connection');
      await page.waitForFunction(() => document.getElementById('A')?.textContent?.includes('"isConnected":true'), undefined, { timeout: BOUND_MS });
      await page.waitForFunction(() => document.getElementById('B')?.textContent?.includes('"isConnected":true'), undefined, { timeout: BOUND_MS });

      // A burst in one tick: React renders a few times at most, onMessage runs 103 times per component.
      const expected: [string, unknown, string][] = [];
      for (let i = 1; i <= 100; i++) {
        sse.send({ event: 'chunk', id: String(i), data: { n: i } });
        expected.push(['chunk', { n: i }, String(i)]);
      }
      sse.send({ data: '[DONE]' }); // not JSON: the raw string
      expected.push(['message', '[DONE]', '100']);
      sse.send({ event: 'error', data: { message: 'a server event named error' } });
      expected.push(['error', { message: 'a server event named error' }, '100']);
      sse.send({ event: 'ignored', data: 'not listened to' });
      sse.send({ id: 'last', data: { done: true } });
      expected.push(['message', { done: true }, 'last']);

      await page.waitForFunction(
        () => {
          const r = (window as unknown as { __received: Received }).__received;
          return r.A.length >= 103 && r.B.length >= 103;
        },
        undefined,
        { timeout: BOUND_MS },
      );
      const got = await received(page);
      expect(got.A).toEqual(expected);
      expect(got.B).toEqual(expected);
      expect(await shown(page, 'A')).toEqual({ data: { done: true }, isConnected: true, readyState: 1, lastEventId: 'last', error: null });
      expect(await shown(page, 'B')).toEqual({ data: { done: true }, isConnected: true, readyState: 1, lastEventId: 'last', error: null });
      expect(connections()).toBe(1);

      // One component leaves: the connection stays for the other.
      await page.evaluate(() => (window as unknown as { __unmount(n: string): void }).__unmount('A'));
      sse.send({ id: 'after', data: 'only B' });
      await page.waitForFunction(() => (window as unknown as { __received: Received }).__received.B.length === 104, undefined, { timeout: BOUND_MS });
      expect((await received(page)).A).toHaveLength(103);
      expect(sse.closed).toBe(false);

      // The last one leaves: the browser closes the connection and the server sees it.
      await page.evaluate(() => (window as unknown as { __unmount(n: string): void }).__unmount('B'));
      await within(new Promise((r) => (sse.closed ? r(undefined) : sse.once('close', r))), 'the server to see the connection close');
      expect(sse.closeReason).toBeDefined();
      await eventually(() => connections() === 1, 'no reconnect');
      expect(connections()).toBe(1);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

if (!haveChromium) {
  test.skip('Chromium is not installed (apt-get install chromium; see scripts/ensure-deps.sh)', () => undefined);
}
