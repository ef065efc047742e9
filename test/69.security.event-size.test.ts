// maxEventBytes (issue 11, security controls): an event whose frame is over
// it is refused by send() and broadcast() with a RangeError (code
// ERR_OUT_OF_RANGE) naming the option, and nothing is sent; a frame of
// exactly maxEventBytes passes. Per stream (the option) or for the process
// (setLimits), on node:http (both sinks) and web streams.
import { broadcast, createSSEStream, encodeEvent, setLimits, sseResponse } from '../lib/index';
import { registerConnection } from '../lib/hub/hub';
import { SINKS, connect, startSSE, useTestEnv } from './helpers/server';

useTestEnv();
afterEach(() => setLimits({}));

function thrown(fn: () => unknown): RangeError & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as RangeError;
  }
  throw new Error('did not throw');
}

describe.each(SINKS)('node:http, %s sink', (_kind, sinkOpts) => {
  test('send(): over the stream option is a RangeError and nothing is sent; exactly at it passes', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, maxEventBytes: 64 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    const fits = { event: 'e', data: 'x'.repeat(64 - encodeEvent({ event: 'e', data: '' }).length) };
    expect(encodeEvent(fits).length).toBe(64);
    const over = { event: 'e', data: 'x'.repeat(fits.data.length + 1) };
    const err = thrown(() => stream.send(over));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toContain('maxEventBytes (64)');
    expect(err.message).toContain('65 bytes');
    // Multi-byte text and many lines count as they go on the wire.
    expect(() => stream.send({ data: 'é'.repeat(30) })).toThrow(RangeError);
    expect(() => stream.send({ data: 'a\nb\nc\nd\ne\nf\ng\nh\ni' })).toThrow(RangeError);
    expect(stream.send(fits)).toBe(true);
    await client.waitForEvents(1);
    expect(client.events.map((e) => e.data)).toEqual([fits.data]);
  });

  test('setLimits({ maxEventBytes }) bounds broadcast() and every stream without its own', async () => {
    setLimits({ maxEventBytes: 100 });
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    registerConnection('size-key', stream);
    const err = thrown(() => broadcast('size-key', 'big', 'y'.repeat(200)));
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toMatch(/^broadcast: .*maxEventBytes \(100\).*setLimits/);
    expect(() => stream.send({ data: 'z'.repeat(200) })).toThrow(/^send: /);
    expect(broadcast('size-key', 'small', 'ok')).toBe(1);
    await client.waitForEvents(1);
    expect(client.events.map((e) => e.event)).toEqual(['small']);
    setLimits({});
    expect(broadcast('size-key', 'big', 'y'.repeat(200))).toBe(1);
    await client.waitForEvents(2);
  });
});

test('web streams, NDJSON and sendRaw() too', async () => {
  const web = createSSEStream({ maxEventBytes: 32, heartbeatMs: 0 });
  expect(() => web.send({ data: 'w'.repeat(40) })).toThrow(RangeError);
  expect(() => web.sse.sendRaw(Buffer.from('r'.repeat(40)))).toThrow(RangeError);
  expect(web.send({ data: 'ok' })).toBe(true);
  web.close();
  expect(await sseResponse(web.stream).text()).toBe('data: ok\n\n');
  const nd = createSSEStream({ format: 'ndjson', maxEventBytes: 10 });
  expect(() => nd.send({ data: { long: 'value' } })).toThrow(RangeError);
  expect(nd.send({ data: [1, 2] })).toBe(true);
  nd.close();
  expect(await sseResponse(nd.stream).text()).toBe('[1,2]\n');
});

test('bad values are TypeErrors', () => {
  expect(() => createSSEStream({ maxEventBytes: -1 })).toThrow(TypeError);
  expect(() => setLimits({ maxEventBytes: 1.5 })).toThrow(/maxEventBytes/);
});
