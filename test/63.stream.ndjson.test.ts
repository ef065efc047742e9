// format: 'ndjson': the same streams as application/x-ndjson, one JSON value
// a line, on every sink; the SSE-only features are refused with errors that
// say so.
import { createSSEStream, registerConnection } from '../lib/index';
import { SINKS, connect, startSSE, useTestEnv } from './helpers/server';

useTestEnv();

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('one JSON value a line, read line by line; pipe() works; no heartbeat', async () => {
    const srv = await startSSE({ ...sinkOpts, format: 'ndjson' });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const head = await client.waitForHead();
    expect(head.headers.get('content-type')).toEqual(['application/x-ndjson; charset=utf-8']);
    stream.send({ data: { token: 'Hel', n: 1 } });
    stream.send({ data: 'line\nwith a break' });
    stream.sendRaw(Buffer.from('caf\xc3', 'latin1'));
    stream.sendRaw(Buffer.from('\xa9', 'latin1'));
    await stream.pipe([{ n: 2 }, [3]], { done: '[DONE]' });
    stream.close();
    await client.waitForEnd();
    const text = client.reader.bodyText;
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ token: 'Hel', n: 1 }, 'line\nwith a break', 'caf', 'é', { n: 2 }, [3], '[DONE]']);
  });
});

test('SSE-only features are refused with errors that name the fix', async () => {
  expect(() => createSSEStream({ format: 'ndjson', retry: 1000 })).toThrow(/`retry` is an SSE feature/);
  expect(() => createSSEStream({ format: 'ndjson', key: 'k' })).toThrow(/hub keys/);
  expect(() => createSSEStream({ format: 'ndjson', heartbeatMs: 1000 })).toThrow(/no heartbeats/);
  expect(() => createSSEStream({ format: 'xml' as never })).toThrow(/'sse' or 'ndjson'/);
  const { sse, stream } = createSSEStream({ format: 'ndjson' });
  expect(() => sse.send({ event: 'x', data: 1 })).toThrow(/`event` is an SSE field/);
  expect(() => sse.send({ id: '1', data: 1 })).toThrow(TypeError);
  expect(() => sse.send({} as never)).toThrow(/needs `data`/);
  expect(() => sse.comment('hi')).toThrow(/no comments/);
  expect(() => registerConnection('k', sse)).toThrow(/cannot join a hub key/);
  await stream.cancel();
});

test('a web NDJSON stream: sseResponse gives the NDJSON content type', async () => {
  const { sseResponse } = await import('../lib/index');
  const { stream, send, close } = createSSEStream({ format: 'ndjson' });
  const res = sseResponse(stream);
  expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
  send({ data: { a: 1 } });
  send({ data: null });
  close();
  expect(await res.text()).toBe('{"a":1}\nnull\n');
});

describe.each(SINKS)('%s sink: drained()', (kind, sinkOpts) => {
  test('send() false above the high-water mark; await drained() resolves true once the client read; false after close', async () => {
    const srv = await startSSE({ ...sinkOpts, highWaterMark: 1000, maxBuffered: 1 << 20, heartbeatMs: 0 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(await stream.drained()).toBe(true); // nothing queued
    let sent = 0;
    while (stream.send({ data: 'x'.repeat(200) })) sent++;
    sent++;
    expect(await stream.drained()).toBe(true);
    expect(stream.bufferedAmount).toBeLessThanOrEqual(1000);
    await client.waitForEvents(sent);
    stream.close();
    expect(await stream.drained()).toBe(false);
  });
});
