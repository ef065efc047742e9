// The hub's replay, proven with a real browser: Chromium's own EventSource
// is a member of a key with a replay ring; the server drops the connection
// while broadcasts go on; Chromium reconnects with Last-Event-ID and, with
// `resume: true`, gets exactly what it missed from the ring, then live
// events. Adopted and fallback sinks.
import * as http from 'node:http';
import type { Browser } from 'playwright-core';
import { broadcast, configureKey, getConnectionCount } from '../lib/hub/hub';
import { createSSEStream, type SSEStream } from '../lib/index';
import { haveChromium, launchChromium } from './browser/chromium';
import { BOUND_MS, SINKS, eventually, listen, useTestEnv } from './helpers/server';

const PAGE = `<!doctype html><meta charset="utf-8"><title>hub</title><script>
  window.__log = [];
  const es = new EventSource('/events');
  es.addEventListener('tick', (e) => window.__log.push({ data: e.data, id: e.lastEventId }));
  es.onerror = () => window.__log.push({ error: es.readyState });
</script>`;

const maybe = haveChromium ? describe : describe.skip;

let browser: Browser | undefined;
beforeAll(async () => {
  if (haveChromium) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
useTestEnv();

let round = 0;

maybe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('Chromium reconnects with Last-Event-ID and the ring gives it what it missed, once, in order', async () => {
    const key = `browser-${kind}-${round++}`;
    configureKey(key, { replay: { maxEvents: 100 } });
    const seen: (string | undefined)[] = [];
    const streams: SSEStream[] = [];
    const srv = await listen(
      http.createServer((req, res) => {
        if (req.url === '/') return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
        if (req.url !== '/events') return void res.writeHead(404).end();
        seen.push(req.headers['last-event-id'] as string | undefined);
        // retry: 100 ms, so Chromium comes back quickly.
        streams.push(createSSEStream(req, res, { ...sinkOpts, key, resume: true, retry: 100 }));
      }),
    );
    const page = await browser!.newPage();
    const log = () => page.evaluate(() => (window as unknown as { __log: { data?: string; id?: string }[] }).__log);
    const ticks = async () => (await log()).filter((e) => e.data !== undefined);
    try {
      await page.goto(`http://127.0.0.1:${srv.port}/`, { timeout: BOUND_MS });
      await eventually(() => getConnectionCount(key) === 1, 'the first connection to join the key');
      expect(streams[0].sinkKind).toBe(kind);
      for (let i = 1; i <= 3; i++) broadcast(key, 'tick', `t${i}`);
      await page.waitForFunction(() => (window as unknown as { __log: unknown[] }).__log.length >= 3, undefined, { timeout: BOUND_MS });
      // The server drops the connection; events go on while Chromium is away.
      streams[0].close();
      await eventually(() => getConnectionCount(key) === 0, 'the dropped stream to leave the key');
      for (let i = 4; i <= 6; i++) broadcast(key, 'tick', `t${i}`);
      await eventually(() => getConnectionCount(key) === 1, 'Chromium to reconnect');
      for (let i = 7; i <= 8; i++) broadcast(key, 'tick', `t${i}`);
      await page.waitForFunction(
        () => (window as unknown as { __log: { data?: string }[] }).__log.filter((e) => e.data !== undefined).length >= 8,
        undefined,
        { timeout: BOUND_MS },
      );
      expect(seen).toEqual([undefined, '3']);
      expect(await ticks()).toEqual(Array.from({ length: 8 }, (_, i) => ({ data: `t${i + 1}`, id: String(i + 1) })));
    } finally {
      await page.close();
    }
  });
});

if (!haveChromium) {
  test.skip('Chromium is not installed (apt-get install chromium; see scripts/ensure-deps.sh)', () => undefined);
}
