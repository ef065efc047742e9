// The `npm start` demo, started for real on 127.0.0.1:0: POST /api/chat
// streams token events then [DONE]; GET /api/metrics streams samples whose
// rates come from getMetrics(); POST /api/fanout starts the loopback load
// process (here 50 connections for 2 s), the hub sees them join and leave,
// and the process exits by itself; the page's scripts are served (no CDN).
import type * as http from 'node:http';
import { connect, eventually, listen, useTestEnv } from './helpers/server';
import { getConnectionCount } from '../lib/hub/hub';

jest.mock('sse-native', () => jest.requireActual('../lib/index'), { virtual: true });

/* eslint-disable @typescript-eslint/no-var-requires */
const { createServer } = require('../examples/demo/server');
const { answerTokens } = require('../examples/shared/fake-model');
/* eslint-enable @typescript-eslint/no-var-requires */

let demo: (http.Server & { stopDemo(): void }) | undefined;
useTestEnv(async () => {
  demo?.stopDemo();
  demo = undefined;
});

async function start() {
  demo = createServer({ tokenMs: 0, firstTokenMs: 0, sampleMs: 20, tickMs: 10 });
  return (await listen(demo!)).port;
}

describe('examples/demo', () => {
  test('POST /api/chat: one token event per token, then [DONE], then the end', async () => {
    const port = await start();
    const c = await connect(port, { method: 'POST', path: '/api/chat', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'demo?' }) });
    await c.waitForEnd();
    const evs = c.events;
    expect(evs[evs.length - 1]).toEqual({ event: undefined, id: undefined, data: '[DONE]' });
    expect(evs.slice(0, -1).every((e) => e.event === 'token')).toBe(true);
    expect(evs.slice(0, -1).map((e) => e.data)).toEqual(answerTokens('demo?'));
  });

  test('GET /api/metrics: samples with rates; POST /api/fanout opens the connections, which leave when the load process ends', async () => {
    const port = await start();
    const m = await connect(port, { path: '/api/metrics' });
    await m.waitForEvents(2);
    const first = JSON.parse(m.events[0].data);
    expect(Object.keys(first).sort()).toEqual(['bytesPerSec', 'connections', 'delayP50', 'delayP99', 'eventsPerSec', 'fanout', 'lastDelay', 'rssMB', 't']);
    expect(first.connections).toBeGreaterThanOrEqual(1);
    expect(first.fanout).toBeNull();

    const res = await fetch(`http://127.0.0.1:${port}/api/fanout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ connections: 50, seconds: 2 }) });
    expect(res.status).toBe(202);
    const started = (await res.json()) as { connections: number; seconds: number; pid: number };
    expect(started).toMatchObject({ connections: 50, seconds: 2 });
    const again = await fetch(`http://127.0.0.1:${port}/api/fanout`, { method: 'POST', body: '{}' });
    expect(again.status).toBe(409);
    await eventually(() => getConnectionCount('fanout') === 50, '50 fan-out members');
    // The samples report the load process's view: every connection, events arriving, delays measured.
    await m.waitFor(
      (c) => c.events.some((e) => {
        const s = JSON.parse(e.data);
        return s.fanout?.connected === 50 && s.fanout.events > 0 && typeof s.delayP50 === 'number';
      }),
      'a sample with the whole fan-out connected',
    );
    const busy = m.events.map((e) => JSON.parse(e.data)).find((s) => s.fanout?.connected === 50);
    expect(busy.connections).toBeGreaterThanOrEqual(51);
    // The load process stops by itself after its 2 s; its connections leave the hub.
    await eventually(() => getConnectionCount('fanout') === 0, 'the fan-out connections to leave');
    await m.waitFor((c) => JSON.parse(c.events[c.events.length - 1].data).fanout === null, 'the load process to exit');
    expect(() => process.kill(started.pid, 0)).toThrow();
  });

  test('the page and its scripts are served from this process', async () => {
    const port = await start();
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain('<script src="/bundle.js">');
    expect(page).not.toMatch(/https?:\/\//);
    const bundle = await (await fetch(`http://127.0.0.1:${port}/bundle.js`)).text();
    expect(bundle).toContain('useSSEStream');
    expect(bundle).not.toMatch(/\bimport\s*\(/);
    const app = await (await fetch(`http://127.0.0.1:${port}/app.js`)).text();
    expect(app).toContain('/api/chat');
  });
});
