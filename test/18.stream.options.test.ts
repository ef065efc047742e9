// Bad options are a TypeError from createSSEStream before anything is
// written: the handler can still answer normally on the same response.
import type { SSEStreamOptions } from '../lib/stream/options';
import { createSSEStream } from '../lib/index';
import { openStreamCount } from '../lib/stream/stream';
import { SINKS, Queue, connect, startHttp, useTestEnv } from './helpers/server';

useTestEnv();

const BAD: [string, Record<string, unknown>, RegExp][] = [
  ["status 'abc'", { status: 'abc' }, /status/],
  ['status 99', { status: 99 }, /status/],
  ['heartbeatMs -1', { heartbeatMs: -1 }, /heartbeatMs/],
  ['retry 1.5', { retry: 1.5 }, /retry/],
  ["onSlowConsumer 'x'", { onSlowConsumer: 'x' }, /onSlowConsumer/],
  ['maxBuffered < highWaterMark', { highWaterMark: 2048, maxBuffered: 1024 }, /maxBuffered.*highWaterMark/],
  ['a header value with CR LF', { headers: { 'X-Bad': 'a\r\nInjected: yes' } }, /X-Bad/],
  ['a header value with LF', { headers: { 'X-Lf': 'a\nb' } }, /X-Lf/],
  ['a header value with NUL', { headers: { 'X-Nul': 'a\0b' } }, /X-Nul/],
  ['a header name that is not a token', { headers: { 'Bad Name': 'v' } }, /Bad Name/],
  ['a header array value with CR', { headers: { 'X-Arr': ['ok', 'b\rc'] } }, /X-Arr/],
];

describe.each(SINKS)('%s sink', (_kind, sinkOpts) => {
  test.each(BAD)('%s: TypeError naming it; the response is still usable', async (_name, bad, names) => {
    const caught = new Queue<{ err: unknown; headersSent: boolean }>();
    const srv = await startHttp((req, res) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      try {
        createSSEStream(req, res, { ...sinkOpts, ...bad } as SSEStreamOptions);
        caught.push({ err: undefined, headersSent: res.headersSent });
      } catch (err) {
        caught.push({ err, headersSent: res.headersSent });
        res.end('fallback');
      }
    });
    const client = await connect(srv.port);
    const { err, headersSent } = await caught.next();
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(names);
    expect(headersSent).toBe(false);
    expect(openStreamCount()).toBe(0);
    await client.waitFor((c) => c.reader.bodyText === 'fallback', 'the fallback body');
    expect(client.head!.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBeUndefined();
    expect(client.reader.header('access-control-allow-origin')).toBe('*');
    expect(client.reader.header('content-length')).toBe('8');
    expect(client.reader.headBytes.toString('latin1')).not.toMatch(/Injected/);
  });
});

test('createSSEStream without a request or response is a TypeError', () => {
  expect(() => createSSEStream({} as never, {} as never)).toThrow(TypeError);
});
