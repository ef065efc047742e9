// Requests pipelined on one socket (issue 11 #4): no stream may outlive its
// socket, and a request pipelined behind an SSE stream gets its answer. A
// stream with a request behind it is not adopted (the core would hold the
// socket while Node held the request): Node answers the requests in order,
// the one behind once the stream ended. A second stream waits behind the
// first with no socket yet; it closes when the client leaves.
import * as net from 'node:net';
import { createSSEStream, getMetrics, setLimits } from '../lib/index';
import { openStreamCount } from '../lib/stream/stream';
import type { SSEStream } from '../lib/stream/stream';
import { Queue, SINKS, connect, eventually, startHttp, startSSE, useTestEnv, within } from './helpers/server';

useTestEnv();
afterEach(() => setLimits({}));

function pipelined(port: number, paths: string[]): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
      resolve(c);
    });
    c.on('error', reject);
  });
}

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('two pipelined SSE requests: once the client leaves, no stream is left open', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    const sock = await pipelined(srv.port, ['/one', '/two']);
    const first = (await srv.opened.next()).stream;
    const second = (await srv.opened.next()).stream;
    expect(first.sinkKind).toBe('response'); // a request is pipelined behind it
    first.send({ data: 'hello' });
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString()));
    await eventually(() => got.includes('data: hello'), 'the first stream to deliver');
    sock.destroy();
    await eventually(() => first.closed && second.closed, 'both streams to close');
    expect(openStreamCount()).toBe(0);
    expect(getMetrics().connections).toBe(0);
  });

  test('pipelined pairs do not hold limit slots: a legitimate client is still accepted', async () => {
    setLimits({ maxConnections: 3 });
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    for (let round = 0; round < 5; round++) {
      const sock = await pipelined(srv.port, ['/a', '/b']);
      const a = (await srv.opened.next()).stream;
      const b = (await srv.opened.next()).stream;
      sock.destroy();
      await eventually(() => a.closed && b.closed, 'the pair to close');
    }
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.closed).toBe(false);
    expect((await client.waitForHead()).statusCode).toBe(200);
    await within(Promise.resolve(), 'done');
  });
});

describe.each(SINKS)('%s sink: a plain request pipelined behind a stream', (_kind, sinkOpts) => {
  test('is answered once the stream ends, in order', async () => {
    const streams = new Queue<SSEStream>();
    let plainFinished = false;
    const srv = await startHttp((req, res) => {
      if (req.url === '/sse') {
        streams.push(createSSEStream(req, res, { ...sinkOpts, heartbeatMs: 0 }));
        return;
      }
      res.on('finish', () => (plainFinished = true));
      res.end('plain answer\n');
    });
    const sock = await pipelined(srv.port, ['/sse', '/plain']);
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const stream = await streams.next();
    stream.send({ data: 'first' });
    await eventually(() => got.includes('data: first'), 'the stream to deliver');
    stream.close();
    await eventually(() => got.includes('plain answer'), `the pipelined request's answer (got ${JSON.stringify(got)})`);
    expect(plainFinished).toBe(true);
    // The stream's response came first and ended; the plain one followed.
    expect(got.indexOf('data: first')).toBeLessThan(got.indexOf('HTTP/1.1 200', 10));
    sock.destroy();
  });
});

describe.each(SINKS)('%s sink: a plain request pipelined behind a POST stream\'s body', (_kind, sinkOpts) => {
  test('is answered once the stream ends', async () => {
    const streams = new Queue<SSEStream>();
    const srv = await startHttp((req, res) => {
      if (req.url === '/sse') {
        streams.push(createSSEStream(req, res, { ...sinkOpts, heartbeatMs: 0 }));
        return;
      }
      res.end('plain answer\n');
    });
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const c = net.connect(srv.port, '127.0.0.1', () => {
        c.write('POST /sse HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' + 'GET /plain HTTP/1.1\r\nHost: x\r\n\r\n');
        resolve(c);
      });
      c.on('error', reject);
    });
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const stream = await streams.next();
    stream.send({ data: 'first' });
    await eventually(() => got.includes('data: first'), 'the stream to deliver');
    stream.close();
    await eventually(() => got.includes('plain answer'), `the pipelined request's answer (got ${JSON.stringify(got)})`);
    sock.destroy();
  });
});
