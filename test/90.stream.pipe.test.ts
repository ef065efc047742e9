// pipe(sse, source): every kind of source (async generator, iterable, web
// ReadableStream, Node Readable) to a real client over 127.0.0.1 on both
// sinks; `[DONE]` last; bytes split inside a UTF-8 character; backpressure
// measured on the web sink, whose queue is exactly what the reader has not
// taken; and the producer stopped within one loop turn of the client
// leaving (turns counted with setImmediate, never timed).
import { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from '../lib/native/parser';
import { createSSEStream } from '../lib/index';
import { pipe, type PipeResult } from '../lib/stream/pipe';
import { SINKS, connect, eventually, startSSE, turn, useTestEnv, within } from './helpers/server';

useTestEnv();

/** Counts loop turns from the moment start() is called (setImmediate, bounded). */
function turnCounter(): { start: () => void; turns: () => number; started: () => boolean } {
  let n = 0;
  let on = false;
  return {
    start() {
      if (on) return;
      on = true;
      const tick = () => {
        n++;
        if (n < 1000) setImmediate(tick);
      };
      setImmediate(tick);
    },
    turns: () => n,
    started: () => on,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = [];
  const p = createParser({ onEvent: (e) => events.push(e) });
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await within(reader.read(), 'a chunk of the web stream');
    if (done) break;
    p.feed(value);
  }
  return events;
}

describe.each(SINKS)('pipe() on the %s sink', (_name, sinkOpts) => {
  test('an async generator of strings: one event per token, [DONE] last, the stream stays open', async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    const tokens = ['Hel', 'lo', ', ', 'wor', 'ld', ' 🚀', '\nnext line'];
    async function* model() {
      for (const t of tokens) {
        await turn();
        yield t;
      }
    }
    const result = await within(pipe(stream, model(), { event: 'token', done: '[DONE]' }), 'the pipe to end');
    expect(result).toEqual({ events: tokens.length, reason: 'end' });
    expect(stream.closed).toBe(false);
    // Still open: the caller may send more, then close.
    stream.send({ event: 'usage', data: { tokens: tokens.length } });
    stream.close();
    await client.waitForEnd();
    const evs = client.events;
    expect(evs.slice(0, tokens.length)).toEqual(tokens.map((t) => ({ event: 'token', id: undefined, data: t })));
    expect(evs[tokens.length]).toEqual({ event: undefined, id: undefined, data: '[DONE]' });
    expect(evs[tokens.length + 1]).toEqual({ event: 'usage', id: undefined, data: '{"tokens":7}' });
    expect(evs).toHaveLength(tokens.length + 2);
  });

  test('objects as JSON, map() to messages with ids, null skips; close: true ends the response', async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    const items = [{ n: 1 }, { n: 2, skip: true }, { n: 3 }];
    const r1 = await pipe(stream, items);
    expect(r1).toEqual({ events: 3, reason: 'end' });
    const r2 = await pipe(stream, items, {
      map: (it, i) => (it.skip ? null : { event: 'chunk', id: `c${i}`, data: { content: it.n } }),
      done: { event: 'done', data: {} },
      close: true,
    });
    expect(r2).toEqual({ events: 2, reason: 'end' });
    await client.waitForEnd();
    expect(client.events).toEqual([
      { event: undefined, id: undefined, data: '{"n":1}' },
      { event: undefined, id: undefined, data: '{"n":2,"skip":true}' },
      { event: undefined, id: undefined, data: '{"n":3}' },
      { event: 'chunk', id: 'c0', data: '{"content":1}' },
      { event: 'chunk', id: 'c2', data: '{"content":3}' },
      { event: 'done', id: undefined, data: '{}' },
    ]);
    // Both pipes removed their listeners.
    expect(stream.listenerCount('close')).toBe(0);
    expect(stream.listenerCount('drain')).toBe(0);
  });

  test('bytes split inside UTF-8 characters arrive whole (sendRaw); bytes counted', async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    const text = 'naïve café 🚀 日本語 done';
    const all = Buffer.from(text, 'utf8');
    // One byte per chunk: every multi-byte character is split.
    const chunks = [...all].map((b) => Uint8Array.of(b));
    const result = await pipe(stream, Readable.from(chunks), { done: '[DONE]', close: true });
    expect(result).toEqual({ events: all.length, bytes: all.length, reason: 'end' });
    await client.waitForEnd();
    const evs = client.events;
    expect(evs[evs.length - 1].data).toBe('[DONE]');
    const got = evs.slice(0, -1).map((e) => e.data);
    expect(got.join('')).toBe(text);
    expect(got.every((d) => !d.includes('\uFFFD'))).toBe(true);
  });

  test('a web ReadableStream and a plain array', async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    let i = 0;
    const rs = new ReadableStream<string>({
      pull(c) {
        if (i === 3) c.close();
        else c.enqueue(`w${i++}`);
      },
    });
    expect(await pipe(stream, rs)).toEqual({ events: 3, reason: 'end' });
    expect(await pipe(stream, ['a', 'b'], { done: '[DONE]', close: true })).toEqual({ events: 2, reason: 'end' });
    await client.waitForEnd();
    expect(client.events.map((e) => e.data)).toEqual(['w0', 'w1', 'w2', 'a', 'b', '[DONE]']);
  });

  test("the client leaves: the generator's finally runs within one loop turn; reason 'client-left'", async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    const counter = turnCounter();
    stream.once('close', counter.start);
    let produced = 0;
    let finallyAt = -1;
    let finallyAfterClose = false;
    async function* model() {
      try {
        for (;;) {
          // A model producing a token per loop turn.
          await new Promise((r) => setImmediate(r));
          produced++;
          yield `t${produced} `;
        }
      } finally {
        finallyAt = counter.turns();
        finallyAfterClose = counter.started();
      }
    }
    const piping = pipe(stream, model(), { done: '[DONE]' });
    await client.waitForEvents(5);
    client.destroy();
    const result: PipeResult = await within(piping, 'the pipe to see the client leave');
    expect(result.reason).toBe('client-left');
    // pipe() does not wait for the generator: return() is queued until its next yield.
    await eventually(() => finallyAt >= 0, "the generator's finally");
    expect(finallyAfterClose).toBe(true);
    expect(finallyAt).toBeGreaterThanOrEqual(0);
    expect(finallyAt).toBeLessThanOrEqual(1);
    // The token in flight when the client left is the only one made for nobody.
    expect(produced - result.events).toBeLessThanOrEqual(1);
    expect(stream.listenerCount('close')).toBe(0);
  });

  test('a Node Readable is destroyed when the client leaves', async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    const counter = turnCounter();
    stream.once('close', counter.start);
    let destroyedAt = -1;
    let n = 0;
    const readable = new Readable({
      objectMode: true,
      read() {
        setImmediate(() => this.push({ n: n++ }));
      },
      destroy(err, cb) {
        destroyedAt = counter.turns();
        cb(err);
      },
    });
    const piping = pipe(stream, readable);
    await client.waitForEvents(3);
    client.destroy();
    expect((await within(piping, 'the pipe to end')).reason).toBe('client-left');
    await eventually(() => destroyedAt >= 0, 'the Readable to be destroyed');
    expect(counter.started()).toBe(true);
    expect(destroyedAt).toBeGreaterThanOrEqual(0);
    expect(destroyedAt).toBeLessThanOrEqual(1);
    expect(readable.destroyed).toBe(true);
  });

  test("the source throws: the error option's message is sent, reason 'error', the stream stays usable", async () => {
    const srv = await startSSE(sinkOpts);
    const client = await connect(srv.port, { path: '/chat' });
    const { stream } = await srv.opened.next();
    const boom = new Error('model crashed');
    async function* model() {
      yield 'a';
      yield 'b';
      throw boom;
    }
    const result = await pipe(stream, model(), {
      done: '[DONE]',
      error: (err) => ({ event: 'error', data: { message: (err as Error).message } }),
    });
    expect(result).toEqual({ events: 2, reason: 'error', error: boom });
    stream.close();
    await client.waitForEnd();
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'a'],
      [undefined, 'b'],
      ['error', '{"message":"model crashed"}'],
    ]);
  });
});

describe('pipe() backpressure and cancellation on the web sink', () => {
  test('a reader that does not read: the source is not pulled past the high-water mark; then everything arrives, [DONE] last', async () => {
    const { stream, sse } = createSSEStream({ highWaterMark: 1000, maxBuffered: 100_000 });
    const item = 'x'.repeat(92); // 100 bytes a frame: "data: " + 92 + "\n\n"
    let pulled = 0;
    function* many() {
      for (let i = 0; i < 200; i++) {
        pulled++;
        yield item;
      }
    }
    let settled = false;
    const piping = pipe(sse, many(), { done: '[DONE]', close: true }).then((r) => {
      settled = true;
      return r;
    });
    for (let i = 0; i < 20; i++) await turn();
    // send() turned false on the 10th frame past 1000 bytes; the pipe waits for 'drain'.
    expect(pulled).toBe(11);
    expect(settled).toBe(false);
    expect(sse.bufferedAmount).toBe(1100);
    const events = await readAll(stream);
    expect(await piping).toEqual({ events: 200, reason: 'end' });
    expect(events).toHaveLength(201);
    expect(events[200].data).toBe('[DONE]');
    expect(events.slice(0, 200).every((e) => e.data === item)).toBe(true);
  });

  test('a generator parked at yield by backpressure runs its finally at once when the reader cancels', async () => {
    const { stream, sse } = createSSEStream({ highWaterMark: 100, maxBuffered: 100_000 });
    const counter = turnCounter();
    sse.once('close', counter.start);
    let finallyAt = -1;
    async function* model() {
      try {
        for (;;) yield 'y'.repeat(200);
      } finally {
        finallyAt = counter.turns();
      }
    }
    const piping = pipe(sse, model());
    for (let i = 0; i < 5; i++) await turn();
    await stream.cancel();
    expect(sse.closed).toBe(true);
    const result = await within(piping, 'the pipe to end');
    expect(result).toEqual({ events: 1, reason: 'client-left' });
    expect(finallyAt).toBe(0);
  });

  test('a web ReadableStream source is cancelled when the client leaves', async () => {
    const { stream, sse } = createSSEStream();
    let cancelled = 0;
    const source = new ReadableStream<string>({
      pull: (c) =>
        new Promise<void>((r) =>
          setImmediate(() => {
            if (cancelled === 0) c.enqueue('tok');
            r();
          }),
        ),
      cancel: () => void cancelled++,
    });
    const piping = pipe(sse, source);
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    expect((await within(piping, 'the pipe to end')).reason).toBe('client-left');
    await eventually(() => cancelled === 1, 'the source to be cancelled');
    expect(cancelled).toBe(1);
  });

  test('a stream whose client already left: nothing is read, the source is returned', async () => {
    const { stream, sse } = createSSEStream();
    await stream.cancel();
    expect(sse.closed).toBe(true);
    let pulled = 0;
    let returned = 0;
    const it: AsyncIterableIterator<string> = {
      next: async () => ({ done: false, value: String(++pulled) }),
      return: async () => (returned++, { done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    expect(await pipe(sse, it, { done: '[DONE]' })).toEqual({ events: 0, reason: 'client-left' });
    expect(pulled).toBe(0);
    expect(returned).toBe(1);
  });
});

describe('pipe() argument checks', () => {
  test('bad sources and options are TypeErrors that say what to pass', () => {
    const { stream, sse } = createSSEStream();
    expect(() => pipe(sse, 'hello' as never)).toThrow(/AsyncIterable.*got a string.*sse\.send/);
    expect(() => pipe(sse, 42 as never)).toThrow(TypeError);
    expect(() => pipe(sse, [], { map: 'x' as never })).toThrow(/`map` must be a function/);
    expect(() => pipe(sse, [], { done: 5 as never })).toThrow(/`done` must be a string/);
    expect(() => pipe(sse, [], { done: { id: 'a\nb' } })).toThrow(TypeError);
    expect(() => pipe(sse, [], { close: 'yes' as never })).toThrow(/`close` must be a boolean/);
    void stream.cancel();
  });
});
