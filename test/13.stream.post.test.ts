// POST streams (an inference endpoint): the handler may read the body first,
// or call createSSEStream while the body is still arriving; then frames sent
// before the body ended are held and delivered, in order, after adoption.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { closeAll, createSSEStream, type SSEStream } from '../lib/index';
import { SINKS, Queue, connect, connectRaw, requestBytes, startHttp, startSSE, within, type Opened, useTestEnv } from './helpers/server';

useTestEnv();

const BODY = JSON.stringify({ prompt: 'Hello', stream: true });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('POST /v1/infer: the handler reads the JSON body, then streams', async () => {
    const opened = new Queue<Opened & { body: unknown }>();
    const srv = await startHttp(async (req, res) => {
      const body = JSON.parse(await readBody(req)) as { prompt: string; stream: boolean };
      const stream = createSSEStream(req, res, { ...sinkOpts });
      for (const word of [body.prompt, 'world']) stream.send({ event: 'chunk', data: { content: word } });
      stream.send({ event: 'done', data: '[DONE]' });
      stream.close();
      opened.push({ stream, req, res, body });
    });
    const client = await connect(srv.port, {
      method: 'POST',
      path: '/v1/infer',
      headers: { 'Content-Type': 'application/json' },
      body: BODY,
    });
    const { stream, body } = await opened.next();
    expect(body).toEqual({ prompt: 'Hello', stream: true });
    expect(stream.sinkKind).toBe(kind);
    await client.waitForEnd();
    expect(client.head!.statusCode).toBe(200);
    expect(client.events).toEqual([
      { event: 'chunk', id: undefined, data: '{"content":"Hello"}' },
      { event: 'chunk', id: undefined, data: '{"content":"world"}' },
      { event: 'done', id: undefined, data: '[DONE]' },
    ]);
  });

  test.each([
    ['Content-Length', false],
    ['chunked', true],
  ])('createSSEStream while a %s body is still arriving: frames sent before it ended arrive in order', async (_name, chunked) => {
    const srv = await startSSE({ ...sinkOpts, retry: 1500 });
    const half = BODY.length >> 1;
    const frame = (s: string) => (chunked ? `${s.length.toString(16)}\r\n${s}\r\n` : s);
    const client = await connectRaw(srv.port);
    const head = requestBytes(srv.port, {
      method: 'POST',
      path: '/v1/infer',
      headers: chunked
        ? { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }
        : { 'Content-Type': 'application/json', 'Content-Length': String(BODY.length) },
    });
    client.socket.write(Buffer.concat([head, Buffer.from(frame(BODY.slice(0, half)))]));
    const { stream, req } = await srv.opened.next();
    // The body has not ended: the adopted sink waits for it.
    expect(stream.sinkKind).toBe(kind === 'adopted' ? 'pending' : 'response');
    expect(req.complete).toBe(false);
    expect(stream.send({ id: '1', data: 'before the body ended' })).toBe(true);
    expect(stream.comment('still before')).toBe(true);
    expect(stream.send({ id: '2', event: 'e', data: { n: 2 } })).toBe(true);
    if (kind === 'response') await client.waitForEvents(2);
    client.socket.write(frame(BODY.slice(half)) + (chunked ? '0\r\n\r\n' : ''));
    // The adopted sink resumed the request to see its end; the response
    // sink leaves the unread body to the app (Node dumps it at res.end()).
    if (kind === 'adopted') await within(once(req, 'end'), 'the request body to end');
    expect(stream.sinkKind).toBe(kind);
    expect(stream.send({ id: '3', data: 'after' })).toBe(true);
    await client.waitForEvents(3);
    expect(client.head!.statusCode).toBe(200);
    expect(client.items).toEqual([
      { type: 'retry', ms: 1500 },
      { type: 'event', event: { id: '1', event: undefined, data: 'before the body ended' } },
      { type: 'comment', text: 'still before' },
      { type: 'event', event: { id: '2', event: 'e', data: '{"n":2}' } },
      { type: 'event', event: { id: '3', event: undefined, data: 'after' } },
    ]);
    stream.close();
    await client.waitForEnd();
  });

  test('the handler reads the body itself while the stream waits for it', async () => {
    const got = new Queue<string>();
    const srv = await startSSE({ ...sinkOpts }, (req) => {
      void readBody(req).then((b) => got.push(b));
    });
    const client = await connectRaw(srv.port);
    const half = BODY.length >> 1;
    client.socket.write(
      Buffer.concat([
        requestBytes(srv.port, { method: 'POST', path: '/v1/infer', headers: { 'Content-Length': String(BODY.length) } }),
        Buffer.from(BODY.slice(0, half)),
      ]),
    );
    const { stream } = await srv.opened.next();
    stream.send({ data: 'early' });
    client.socket.write(BODY.slice(half));
    expect(await got.next('the body read by the handler')).toBe(BODY);
    stream.send({ data: 'late' });
    await client.waitForEvents(2);
    expect(stream.sinkKind).toBe(kind);
    expect(client.events.map((e) => e.data)).toEqual(['early', 'late']);
  });

  test.each([
    ['close()', (s: SSEStream) => s.close()],
    ['closeAll()', () => closeAll()],
  ])('%s before the body ended answers with what was queued and ends the response at once', async (_name, closeIt) => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connectRaw(srv.port);
    client.socket.write(
      Buffer.concat([
        requestBytes(srv.port, { method: 'POST', path: '/v1/infer', headers: { 'Content-Length': String(BODY.length) } }),
        Buffer.from(BODY.slice(0, 5)),
      ]),
    );
    const { stream } = await srv.opened.next();
    stream.send({ id: '1', data: 'queued' });
    const closed = within(once(stream, 'close'), "the stream's 'close'");
    closeIt(stream);
    await closed;
    expect(stream.closeReason).toBeUndefined();
    await client.waitForEnd();
    expect(client.head!.statusCode).toBe(200);
    expect(client.events.map((e) => e.data)).toEqual(['queued']);
    expect(stream.send({ data: 'late' })).toBe(false);
  });

  test('the client leaving before the body ended closes the stream once', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connectRaw(srv.port);
    client.socket.write(
      Buffer.concat([
        requestBytes(srv.port, { method: 'POST', path: '/v1/infer', headers: { 'Content-Length': String(BODY.length) } }),
        Buffer.from(BODY.slice(0, 5)),
      ]),
    );
    const { stream } = await srv.opened.next();
    let closes = 0;
    stream.on('close', () => closes++);
    stream.send({ data: 'queued' });
    client.destroy();
    await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeInstanceOf(Error);
    expect(stream.send({ data: 'nobody' })).toBe(false);
    expect(closes).toBe(1);
  });
});
