// Two SSE requests pipelined on one socket (issue 11 #4): no stream may
// outlive its socket. Adopted: the second request comes after Node's socket
// was handed to the core, so its stream closes at once and counts against
// no limit. res.write: the second response waits behind the first and has
// no socket yet; it closes when the client leaves.
import * as net from 'node:net';
import { getMetrics, setLimits } from '../lib/index';
import { openStreamCount } from '../lib/stream/stream';
import { SINKS, connect, eventually, startSSE, useTestEnv, within } from './helpers/server';

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
    expect(first.sinkKind).toBe(kind);
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
