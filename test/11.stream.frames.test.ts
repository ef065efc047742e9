// What send(), comment(), `retry` and heartbeats put on the wire, parsed by
// our own createParser on a raw client, on both sinks.
import { SINKS, connect, startSSE, useTestEnv } from './helpers/server';

useTestEnv();

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('events arrive in send() order with names, ids and data', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const sent: boolean[] = [];
    for (let i = 0; i < 50; i++) sent.push(stream.send({ event: i % 2 ? 'odd' : 'even', id: String(i), data: `n${i}` }));
    expect(sent.every((r) => r === true)).toBe(true);
    await client.waitForEvents(50);
    expect(client.events).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ event: i % 2 ? 'odd' : 'even', id: String(i), data: `n${i}` })),
    );
  });

  test('a numeric id is sent in decimal; an event without a name has none', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    stream.send({ id: 42, data: 'a' });
    stream.send({ data: 'b' });
    await client.waitForEvents(2);
    expect(client.events).toEqual([
      { event: undefined, id: '42', data: 'a' },
      { event: undefined, id: undefined, data: 'b' },
    ]);
  });

  test('multi-line data becomes several data lines and arrives whole', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    stream.send({ data: 'line one\nline two\r\nline three\rline four' });
    stream.send({ data: '[DONE]' });
    stream.close();
    await client.waitForEnd();
    expect(client.events.map((e) => e.data)).toEqual(['line one\nline two\nline three\nline four', '[DONE]']);
    expect(client.reader.bodyText).toBe(
      'data: line one\ndata: line two\ndata: line three\ndata: line four\n\ndata: [DONE]\n\n',
    );
  });

  test('object data is sent as JSON, a string as it is', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    const payload = { content: 'Hello', n: 1, nested: { ok: true }, list: [1, 'é', null] };
    stream.send({ event: 'chunk', data: payload });
    stream.send({ data: 123 });
    stream.send({ data: '{"raw":1}' });
    await client.waitForEvents(3);
    expect(JSON.parse(client.events[0].data)).toEqual(payload);
    expect(client.events[0].event).toBe('chunk');
    expect(client.events[1].data).toBe('123');
    expect(client.events[2].data).toBe('{"raw":1}');
  });

  test('a bad id throws a TypeError and nothing is sent; the stream goes on', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(() => stream.send({ id: 'a\nb', data: 'x' })).toThrow(TypeError);
    expect(() => stream.send({ event: 'a\rb', data: 'x' })).toThrow(TypeError);
    stream.send({ data: 'after' });
    stream.close();
    await client.waitForEnd();
    expect(client.reader.bodyText).toBe('data: after\n\n');
  });

  test('the retry option arrives first', async () => {
    const srv = await startSSE({ ...sinkOpts, retry: 3000 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    stream.send({ data: 'first' });
    await client.waitForEvents(1);
    expect(client.items).toEqual([
      { type: 'retry', ms: 3000 },
      { type: 'event', event: { event: undefined, id: undefined, data: 'first' } },
    ]);
    expect(client.reader.bodyText.startsWith('retry: 3000\n\n')).toBe(true);
  });

  test('comment() sends a comment line in order with the events', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    stream.send({ data: 'a' });
    expect(stream.comment('hello there')).toBe(true);
    stream.send({ data: 'b' });
    await client.waitForEvents(2);
    expect(client.items.map((i) => i.type)).toEqual(['event', 'comment', 'event']);
    expect(client.comments).toEqual(['hello there']);
    expect(client.reader.bodyText).toBe('data: a\n\n: hello there\n\ndata: b\n\n');
  });

  test('heartbeats arrive as ": keepalive" on an idle stream', async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 50 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitFor((c) => c.comments.length >= 3, 'three heartbeats');
    expect(new Set(client.comments)).toEqual(new Set(['keepalive']));
    expect(client.reader.bodyText.startsWith(': keepalive\n\n')).toBe(true);
  });

  test('heartbeatMs: 0 sends none while a 50 ms stream gets three', async () => {
    // The window is measured by a second stream's heartbeats, not by a clock.
    const srv = await startSSE((req) => ({ ...sinkOpts, heartbeatMs: req.url === '/hb' ? 50 : 0 }));
    const quiet = await connect(srv.port, { path: '/quiet' });
    const quietStream = (await srv.opened.next()).stream;
    const beating = await connect(srv.port, { path: '/hb' });
    const beatingStream = (await srv.opened.next()).stream;
    expect([quietStream.sinkKind, beatingStream.sinkKind]).toEqual([kind, kind]);
    await quiet.waitForHead();
    await beating.waitFor((c) => c.comments.length >= 3, 'three heartbeats on the 50 ms stream');
    quietStream.send({ data: 'marker' });
    await quiet.waitForEvents(1);
    expect(quiet.items).toEqual([{ type: 'event', event: { event: undefined, id: undefined, data: 'marker' } }]);
  });
});
