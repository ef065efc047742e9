// The runnable examples, started for real on 127.0.0.1:0 and read with a raw
// client: Express, Fastify and node:http (adopted sockets), Hono (the web
// sink) and the Next.js pages API route. Each resumes after Last-Event-ID.
import type * as http from 'node:http';
import { connect, listen, useTestEnv } from './helpers/server';

// The examples import the package by name, as users do; here it is lib/.
jest.mock('sse-native', () => jest.requireActual('../lib/index'), { virtual: true });

interface Closable {
  close(): Promise<unknown>;
}
const apps: Closable[] = [];
useTestEnv(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

type Starter = () => Promise<number>;

/* eslint-disable @typescript-eslint/no-var-requires */
const starters: [string, Starter, string][] = [
  [
    'Express',
    async () => {
      const { createApp } = require('../examples/express/server');
      return (await listen(require('node:http').createServer(createApp({ intervalMs: 1 })))).port;
    },
    'Hello from Express:',
  ],
  [
    'Fastify',
    async () => {
      const { createApp } = require('../examples/fastify/server');
      const app = createApp({ intervalMs: 1 });
      apps.push(app);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as { port: number }).port;
    },
    'Hello from Fastify:',
  ],
  [
    'node:http',
    async () => {
      const { createServer } = require('../examples/node-http/server');
      return (await listen(createServer({ intervalMs: 1 }) as http.Server)).port;
    },
    'Hello from node:http:',
  ],
  [
    'Hono',
    async () => {
      const { createApp } = require('../examples/hono/server');
      const { createAdaptorServer } = require('@hono/node-server');
      return (await listen(createAdaptorServer({ fetch: createApp({ intervalMs: 1 }).fetch }) as http.Server)).port;
    },
    'Hello from Hono:',
  ],
];
/* eslint-enable @typescript-eslint/no-var-requires */

describe.each(starters)('examples: %s', (_name, start, firstWords) => {
  test('streams the reply token by token, then done, then ends', async () => {
    const port = await start();
    const client = await connect(port, { path: '/events' });
    await client.waitForEnd();
    expect(client.head!.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.reader.header('access-control-allow-origin')).toBe('*');
    expect(client.items[0]).toEqual({ type: 'retry', ms: 3000 });
    const events = client.events;
    expect(events[events.length - 1]).toEqual({ event: 'done', id: undefined, data: '{}' });
    const chunks = events.slice(0, -1);
    expect(chunks.map((e) => e.id)).toEqual(chunks.map((_, i) => String(i + 1)));
    expect(chunks.every((e) => e.event === 'chunk')).toBe(true);
    const text = chunks.map((e) => JSON.parse(e.data).content).join('');
    expect(text.startsWith(firstWords)).toBe(true);
  });

  test('resumes after Last-Event-ID', async () => {
    const port = await start();
    const client = await connect(port, { path: '/events', headers: { 'Last-Event-ID': '3' } });
    await client.waitForEnd();
    const ids = client.events.map((e) => e.id).filter((id) => id !== undefined);
    expect(ids[0]).toBe('4');
    expect(JSON.parse(client.events[0].data).content.startsWith(firstWords)).toBe(false);
  });
});

describe('examples: Next.js pages API route', () => {
  test('says hello with the resumed id, then ticks; the client leaving stops it', async () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { default: handler } = require('../examples/next-pages-api/events');
    const srv = await listen(require('node:http').createServer(handler) as http.Server);
    const client = await connect(srv.port, { path: '/api/events', headers: { 'Last-Event-ID': '5' } });
    await client.waitForEvents(2);
    expect(client.events[0]).toEqual({ event: 'hello', id: '5', data: '{"resumedFrom":"5"}' });
    expect(client.events[1].event).toBe('tick');
    expect(client.events[1].id).toBe('6');
    client.destroy(); // cleanup() then waits for the stream to close (its timer stops with it)
  });
});
