// Access logs on SSE routes: real morgan and pino-http in a real Express 5
// app on 127.0.0.1, read by a raw client socket. Both must log once, when
// the stream really ends (not when the core adopts the socket), with the
// status, the response time and the SSE headers, the same way for an
// adopted socket as for the res.write sink (adopt: false). A client that
// leaves is logged as Node logs it: status sent, 'request aborted'.
import * as http from 'node:http';
import morgan from 'morgan';
import pino from 'pino';
import pinoHttp from 'pino-http';
import { createSSEStream } from '../lib/index';
import type { SSEStream } from '../lib/stream/stream';
import { SINKS, Queue, connect, eventually, startHttp, turn, within, useTestEnv } from './helpers/server';

type Next = (err?: unknown) => void;
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, next: Next) => void;
interface ExpressApp extends http.RequestListener {
  use(h: Handler): void;
  get(path: string, ...h: Handler[]): void;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const express5 = require('express5') as () => ExpressApp;

useTestEnv();

interface PinoLine {
  msg: string;
  responseTime: number;
  res: { statusCode: number; headers: Record<string, string> };
  req: { url: string };
}

/** At least this long between the request and the end of the stream (setTimeout never fires early). */
const HELD_MS = 100;

async function start(sinkOpts: { adopt?: boolean }) {
  const morganLines: string[] = [];
  const pinoLines: PinoLine[] = [];
  const app = express5();
  app.use(morgan(':method :url :status :response-time :total-time', { stream: { write: (line: string) => void morganLines.push(line.trim()) } }) as unknown as Handler);
  const logger = pino({ level: 'info' }, { write: (line: string) => void pinoLines.push(JSON.parse(line) as PinoLine) });
  app.use(pinoHttp({ logger }) as unknown as Handler);
  const opened = new Queue<SSEStream>();
  app.get('/events', (req, res) => {
    const stream = createSSEStream(req, res, { ...sinkOpts, heartbeatMs: 0 });
    stream.send({ event: 'hello', data: 'hi' });
    opened.push(stream);
  });
  const srv = await startHttp(app);
  return { srv, opened, morganLines, pinoLines };
}

describe.each(SINKS)('morgan and pino-http on an SSE route, %s sink', (kind, sinkOpts) => {
  test('a stream the server closes is logged once, when it ends: 200, response time, duration, the SSE headers', async () => {
    const { srv, opened, morganLines, pinoLines } = await start(sinkOpts);
    const t0 = Date.now();
    const client = await connect(srv.port, { path: '/events' });
    const stream = await opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForEvents(1);
    await within(new Promise((r) => setTimeout(r, HELD_MS)), 'the stream to be held open');
    await turn();
    // Open: nothing logged yet (morgan used to log `- - -` at adoption).
    expect(morganLines).toEqual([]);
    expect(pinoLines).toEqual([]);
    stream.close();
    await client.waitForEnd();
    await eventually(() => morganLines.length > 0 && pinoLines.length > 0, 'both access-log lines');
    const heldMs = Date.now() - t0;
    for (let i = 0; i < 5; i++) await turn();
    expect(morganLines).toHaveLength(1);
    expect(pinoLines).toHaveLength(1);

    const m = /^GET \/events (\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(morganLines[0]);
    expect(m).not.toBeNull();
    expect(m![1]).toBe('200');
    expect(Number(m![2])).toBeLessThanOrEqual(Number(m![3])); // to the head, then the whole stream
    expect(Number(m![3])).toBeGreaterThanOrEqual(HELD_MS - 1);
    expect(Number(m![3])).toBeLessThanOrEqual(heldMs + 1);

    const p = pinoLines[0];
    expect(p.msg).toBe('request completed');
    expect(p.req.url).toBe('/events');
    expect(p.res.statusCode).toBe(200);
    expect(p.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(p.res.headers['cache-control']).toMatch(/no-cache/);
    expect(p.responseTime).toBeGreaterThanOrEqual(HELD_MS - 1);
  });

  test('a client that leaves is logged once, when it leaves: status sent, request aborted', async () => {
    const { srv, opened, morganLines, pinoLines } = await start(sinkOpts);
    const client = await connect(srv.port, { path: '/events' });
    const stream = await opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForEvents(1);
    for (let i = 0; i < 5; i++) await turn();
    expect(morganLines).toEqual([]);
    expect(pinoLines).toEqual([]);
    client.destroy();
    await eventually(() => stream.closed, 'the stream to close');
    await eventually(() => morganLines.length > 0 && pinoLines.length > 0, 'both access-log lines');
    for (let i = 0; i < 5; i++) await turn();
    expect(morganLines).toHaveLength(1);
    expect(morganLines[0]).toMatch(/^GET \/events 200 \d+\.\d+ \d+\.\d+$/);
    expect(pinoLines).toHaveLength(1);
    expect(pinoLines[0].msg).toBe('request aborted');
    expect(pinoLines[0].res.statusCode).toBe(200);
  });
});

test('adopted: the response says what was sent (headersSent, statusCode, getHeaders, writableEnded, finish) ', async () => {
  const seen = new Queue<{ stream: SSEStream; res: http.ServerResponse }>();
  const srv = await startHttp((req, res) => {
    res.setHeader('X-App', 'yes');
    const stream = createSSEStream(req, res, { status: 201, heartbeatMs: 0 });
    seen.push({ stream, res });
  });
  const client = await connect(srv.port, { path: '/events' });
  const { stream, res } = await seen.next();
  expect(stream.sinkKind).toBe('adopted');
  await client.waitForHead();
  const events: string[] = [];
  res.on('finish', () => events.push('finish'));
  res.on('close', () => events.push('close'));
  expect(res.headersSent).toBe(true);
  expect(res.statusCode).toBe(201);
  expect(res.getHeader('x-app')).toBe('yes');
  expect(res.getHeader('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(res.writableEnded).toBe(false);
  expect(() => res.setHeader('X-Late', '1')).toThrow(expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' }));
  stream.close();
  expect(res.writableEnded).toBe(true);
  await client.waitForEnd();
  await eventually(() => events.length === 2, "res 'finish' and 'close'");
  expect(events).toEqual(['finish', 'close']);
  expect(res.writableFinished).toBe(true);
});
