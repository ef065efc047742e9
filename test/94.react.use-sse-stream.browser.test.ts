// useSSEStream in a real page: React 19 and lib/react/index.ts (with the
// browser build of fetchEventSource: fetch + the TypeScript parser) bundled
// by test/browser/bundle.ts, in headless Chromium under StrictMode, against
// a server on 127.0.0.1 that pipes a fake model's tokens for each POST.
// A click starts a request; [DONE] ends it; a second click during a stream
// stops it and the server's generator stops.
import * as http from 'node:http';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { createSSEStream, type SSEStream } from '../lib/index';
import { bundle } from './browser/bundle';
import { haveChromium, launchChromium } from './browser/chromium';
import { BOUND_MS, Queue, listen, useTestEnv, within } from './helpers/server';

const ROOT = path.resolve(__dirname, '..');

const APP = `
const { createElement: h, StrictMode } = React;
function Chat() {
  const s = SSEReact.useSSEStream('/v1/chat', { body: { prompt: 'Hi from Chromium, with 🚀 emoji' } });
  window.__s = s;
  return h('div', null,
    h('button', { id: 'go', onClick: () => s.start() }, 'send'),
    h('button', { id: 'stop', onClick: () => s.abort() }, 'stop'),
    h('pre', { id: 'out' }, JSON.stringify({ status: s.status, text: s.text, events: s.events.length, lastEventId: s.lastEventId, error: s.error ? String(s.error) : null })));
}
ReactDOMClient.createRoot(document.getElementById('root')).render(h(StrictMode, null, h(Chat)));
`;

const maybe = haveChromium ? describe : describe.skip;
let browser: Browser | undefined;
let script: string | undefined;
beforeAll(async () => {
  if (!haveChromium) return;
  script = bundle({ React: 'react', ReactDOMClient: 'react-dom/client', SSEReact: path.join(ROOT, 'lib/react/index.ts') }, ROOT);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
useTestEnv();

interface Chat {
  body: unknown;
  sse: SSEStream;
  stopped: () => boolean;
}

async function start(slow: boolean) {
  const chats = new Queue<Chat>();
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
      if (req.url !== '/v1/chat' || req.method !== 'POST') return void res.writeHead(404).end();
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
        const sse = createSSEStream(req, res);
        let stopped = false;
        const words: string[] = body.prompt.split(/(?= )/);
        async function* model() {
          try {
            for (let i = 0; ; i++) {
              if (!slow && i === words.length) return;
              // The slow model repeats forever, a token per 5 ms, until stopped.
              await new Promise((r) => (slow ? setTimeout(r, 5) : setImmediate(r)));
              yield { choices: [{ index: 0, delta: { content: words[i % words.length] } }] };
            }
          } finally {
            stopped = true;
          }
        }
        chats.push({ body, sse, stopped: () => stopped });
        void sse.pipe(model(), { map: (c, i) => ({ id: String(i + 1), data: c }), done: '[DONE]' });
      });
    }),
  );
  return { port: srv.port, chats };
}

const out = async (page: import('playwright-core').Page) => JSON.parse((await page.textContent('#out', { timeout: BOUND_MS }))!);

maybe('useSSEStream in Chromium (StrictMode)', () => {
  test('a click POSTs, the text streams in, [DONE] ends it; stop during a stream stops the server generator', async () => {
    const fast = await start(false);
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(`http://127.0.0.1:${fast.port}/`, { timeout: BOUND_MS });
      expect((await out(page)).status).toBe('idle');
      await page.click('#go', { timeout: BOUND_MS });
      const chat = await fast.chats.next('the POST');
      expect(chat.body).toEqual({ prompt: 'Hi from Chromium, with 🚀 emoji' });
      await page.waitForFunction(() => document.getElementById('out')?.textContent?.includes('"status":"done"'), undefined, { timeout: BOUND_MS });
      expect(await out(page)).toEqual({ status: 'done', text: 'Hi from Chromium, with 🚀 emoji', events: 6, lastEventId: '6', error: null });
      await within(new Promise((r) => (chat.sse.closed ? r(undefined) : chat.sse.once('close', r))), 'the server to see the request end');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }

    const slow = await start(true);
    const page2 = await browser!.newPage();
    try {
      await page2.goto(`http://127.0.0.1:${slow.port}/`, { timeout: BOUND_MS });
      await page2.click('#go', { timeout: BOUND_MS });
      const chat = await slow.chats.next('the POST');
      await page2.waitForFunction(() => /"events":([3-9]|\d\d)/.test(document.getElementById('out')?.textContent ?? ''), undefined, { timeout: BOUND_MS });
      await page2.click('#stop', { timeout: BOUND_MS });
      await within(new Promise((r) => (chat.sse.closed ? r(undefined) : chat.sse.once('close', r))), 'the server to see the client leave');
      await within(
        new Promise<void>((r) => {
          const check = () => (chat.stopped() ? r() : setTimeout(check, 5));
          check();
        }),
        'the generator to stop',
      );
      const shown = await out(page2);
      expect(shown.status).toBe('idle');
      expect(shown.text.startsWith('Hi from Chromium,')).toBe(true);
      expect(shown.error).toBeNull();
    } finally {
      await page2.close();
    }
  });
});

if (!haveChromium) {
  test.skip('Chromium is not installed (apt-get install chromium; see scripts/ensure-deps.sh)', () => undefined);
}
