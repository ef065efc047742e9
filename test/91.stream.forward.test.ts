// forward(sse, upstream): a proxy on 127.0.0.1 fetches a real upstream SSE
// server (global fetch) and forwards its events to a raw client; ids, event
// names, comments, retry and multi-line data are kept, whatever line ends
// the upstream used; map() transforms and filters; a client leaving cancels
// the upstream body and aborts the caller's AbortController (the upstream
// server then sees its client leave); error statuses and types are reported.

import * as net from 'node:net';
import { createParser, type EventSourceMessage } from '../lib/native/parser';
import { createSSEStream, type SSEStream } from '../lib/index';
import { forward, SSEUpstreamError, type ForwardOptions, type ForwardResult } from '../lib/stream/forward';
import { Queue, connect, eventually, listen, startHttp, turn, useTestEnv, within } from './helpers/server';

useTestEnv();

/** An upstream that writes `body` (raw SSE bytes, in the given pieces) then ends, or stays open. */
async function rawUpstream(pieces: (string | Buffer)[], opts: { end?: boolean; status?: number; type?: string } = {}): Promise<number> {
  const srv = await startHttp((_req, res) => {
    res.writeHead(opts.status ?? 200, { 'Content-Type': opts.type ?? 'text/event-stream' });
    let i = 0;
    const next = () => {
      if (i < pieces.length) {
        res.write(pieces[i++]);
        setImmediate(next);
      } else if (opts.end !== false) res.end();
    };
    next();
  });
  return srv.port;
}

/**
 * A proxy: each request fetches `upstreamUrl` and forwards it with
 * `options(ac)`; the results arrive on `results`.
 */
async function proxy(upstreamUrl: string, options: (ac: AbortController) => ForwardOptions = () => ({})) {
  const results = new Queue<ForwardResult>();
  const streams = new Queue<SSEStream>();
  const aborts: AbortController[] = [];
  const srv = await startHttp(async (req, res) => {
    const sse = createSSEStream(req, res);
    streams.push(sse);
    const ac = new AbortController();
    aborts.push(ac);
    const upstream = await fetch(upstreamUrl, { signal: ac.signal, headers: { accept: 'text/event-stream' } });
    results.push(await forward(sse, upstream, { abort: ac, ...options(ac) }));
  });
  return { port: srv.port, results, streams, aborts };
}

function parseAll(text: string): EventSourceMessage[] {
  const out: EventSourceMessage[] = [];
  createParser({ onEvent: (e) => out.push(e) }).feed(text);
  return out;
}

describe('forward() through a real proxy', () => {
  test('events, ids, names, comments, retry and multi-line data kept; CRLF and byte-split input made canonical', async () => {
    const upstreamText =
      'retry: 2500\r\n\r\n' +
      ': upstream keepalive\r\n\r\n' +
      'id: 1\r\nevent: chunk\r\ndata:{"content":"Hé"}\r\n\r\n' +
      'data: line one\r\ndata: line two\r\n\r\n' +
      'id: 3\r\ndata: 🚀 three\r\n\r\n' +
      'data: [DONE]\r\n\r\n';
    const bytes = Buffer.from(upstreamText, 'utf8');
    // Seven-byte pieces: fields, CRLFs and the emoji are split.
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7));
    const up = await rawUpstream(pieces);
    const px = await proxy(`http://127.0.0.1:${up}/`, () => ({ close: true }));
    const client = await connect(px.port, { path: '/' });
    await client.waitForEnd();
    const result = await px.results.next();
    expect(result).toEqual({ events: 4, bytes: bytes.length, reason: 'end' });
    expect(client.items).toEqual([
      { type: 'retry', ms: 2500 },
      { type: 'comment', text: 'upstream keepalive' },
      { type: 'event', event: { id: '1', event: 'chunk', data: '{"content":"Hé"}' } },
      { type: 'event', event: { id: undefined, event: undefined, data: 'line one\nline two' } },
      { type: 'event', event: { id: '3', event: undefined, data: '🚀 three' } },
      { type: 'event', event: { id: undefined, event: undefined, data: '[DONE]' } },
    ]);
    // Canonical on the way out: LF only, "data: " with its space.
    expect(client.reader.bodyText).toBe(
      'retry: 2500\n\n: upstream keepalive\n\nevent: chunk\nid: 1\ndata: {"content":"Hé"}\n\ndata: line one\ndata: line two\n\nid: 3\ndata: 🚀 three\n\ndata: [DONE]\n\n',
    );
  });

  test('an upstream served by sse-native itself, OpenAI-shaped chunks mapped to tokens; [DONE] filtered and sent last by `done`', async () => {
    const words = ['The', ' quick', ' brown', ' fox'];
    const upSrv = await startHttp((req, res) => {
      const sse = createSSEStream(req, res);
      void sse.pipe(
        words.map((w, i) => ({ id: `chatcmpl-1`, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w }, finish_reason: null }], n: i })),
        { map: (chunk, i) => ({ id: String(i + 1), data: chunk }), done: '[DONE]', close: true },
      );
    });
    const px = await proxy(`http://127.0.0.1:${upSrv.port}/`, () => ({
      map: (ev) => {
        if (ev.data === '[DONE]') return null;
        const chunk = JSON.parse(ev.data) as { choices: { delta: { content?: string } }[] };
        return { event: 'token', id: ev.id, data: chunk.choices[0].delta.content ?? '' };
      },
      comments: false,
      done: { event: 'done', data: '[DONE]' },
      close: true,
    }));
    const client = await connect(px.port, { path: '/' });
    await client.waitForEnd();
    expect((await px.results.next()).reason).toBe('end');
    expect(client.events).toEqual([
      ...words.map((w, i) => ({ event: 'token', id: String(i + 1), data: w })),
      { event: 'done', id: undefined, data: '[DONE]' },
    ]);
  });

  test('the client leaves: the upstream body is cancelled, the AbortController aborted, the upstream server sees it', async () => {
    const upstreamGone = new Queue<string>();
    let produced = 0;
    const upSrv = await startHttp((req, res) => {
      const sse = createSSEStream(req, res);
      async function* model() {
        try {
          for (;;) {
            await new Promise((r) => setImmediate(r));
            yield { token: ++produced };
          }
        } finally {
          upstreamGone.push('generator stopped');
        }
      }
      void sse.pipe(model());
    });
    const px = await proxy(`http://127.0.0.1:${upSrv.port}/`);
    const client = await connect(px.port, { path: '/' });
    await client.waitForEvents(10);
    client.destroy();
    const result = await px.results.next('the forward to end');
    expect(result.reason).toBe('client-left');
    expect(px.aborts[0].signal.aborted).toBe(true);
    // The upstream is another server: its client (our proxy's fetch) left, so its generator stopped.
    expect(await upstreamGone.next('the upstream generator to stop')).toBe('generator stopped');
    const after = produced;
    for (let i = 0; i < 20; i++) await turn();
    expect(produced).toBe(after);
  });

  test('an error status and a non-SSE body: reason error with an SSEUpstreamError; the error option speaks to the client', async () => {
    const bad = await rawUpstream(['{"error":"model overloaded"}'], { status: 503, type: 'application/json' });
    const json = await rawUpstream(['{"choices":[]}'], { type: 'application/json' });
    const onError = (err: unknown) => ({ event: 'error', data: { code: (err as SSEUpstreamError).code, status: (err as SSEUpstreamError).status } });
    for (const [port, code, status] of [
      [bad, 'SSE_UPSTREAM_STATUS', 503],
      [json, 'SSE_UPSTREAM_TYPE', 200],
    ] as const) {
      const px = await proxy(`http://127.0.0.1:${port}/`, () => ({ error: onError, close: true }));
      const client = await connect(px.port, { path: '/' });
      await client.waitForEnd();
      const result = await px.results.next();
      expect(result.reason).toBe('error');
      expect(result.error).toBeInstanceOf(SSEUpstreamError);
      expect((result.error as SSEUpstreamError).code).toBe(code);
      expect(px.aborts[0].signal.aborted).toBe(true);
      expect(client.events).toEqual([{ event: 'error', id: undefined, data: JSON.stringify({ code, status }) }]);
    }
  });

  test('the upstream connection breaks mid-stream: reason error, events so far delivered', async () => {
    // A raw upstream that sends a head, two events, then resets.
    const server = net.createServer((sock) => {
      sock.once('data', () => {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
        const body = 'data: one\n\ndata: two\n\ndata: thr';
        sock.write(`${body.length.toString(16)}\r\n${body}\r\n`);
        setImmediate(() => sock.destroy());
      });
    });
    const up = await listen(server);
    const px = await proxy(`http://127.0.0.1:${up.port}/`, () => ({ error: () => ({ event: 'error', data: 'upstream broke' }), close: true }));
    const client = await connect(px.port, { path: '/' });
    await client.waitForEnd();
    const result = await px.results.next();
    expect(result.reason).toBe('error');
    expect(result.events).toBe(2);
    // The half event "thr" is not delivered: the output stays frame-aligned.
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'one'],
      [undefined, 'two'],
      ['error', 'upstream broke'],
    ]);
  });
});

describe('forward() in process', () => {
  test('a Response over a generator: its finally runs within one loop turn of the client leaving', async () => {
    const { stream, sse } = createSSEStream();
    let turns = 0;
    let counting = false;
    sse.once('close', () => {
      counting = true;
      const tick = () => {
        turns++;
        if (turns < 1000) setImmediate(tick);
      };
      setImmediate(tick);
    });
    let finallyAt = -1;
    const enc = new TextEncoder();
    async function* upstreamModel() {
      try {
        for (let i = 0; ; i++) {
          await new Promise((r) => setImmediate(r));
          yield enc.encode(`id: ${i}\ndata: tok${i}\n\n`);
        }
      } finally {
        finallyAt = counting ? turns : -2;
      }
    }
    const it = upstreamModel();
    const body = new ReadableStream<Uint8Array>({
      pull: async (c) => {
        const r = await it.next();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: async () => {
        await it.return(undefined);
      },
    });
    const ac = new AbortController();
    const forwarding = forward(sse, new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } }), { abort: ac });
    const reader = stream.getReader();
    const seen: string[] = [];
    const p = createParser({ onEvent: (e) => seen.push(`${e.id}:${e.data}`) });
    while (seen.length < 5) {
      const r = await within(reader.read(), 'a forwarded chunk');
      p.feed(r.value!);
    }
    expect(seen.slice(0, 5)).toEqual(['0:tok0', '1:tok1', '2:tok2', '3:tok3', '4:tok4']);
    await reader.cancel();
    const result = await within(forwarding, 'the forward to end');
    expect(result.reason).toBe('client-left');
    expect(ac.signal.aborted).toBe(true);
    await eventually(() => finallyAt !== -1, "the upstream generator's finally");
    expect(finallyAt).toBeGreaterThanOrEqual(0);
    expect(finallyAt).toBeLessThanOrEqual(1);
  });

  test('backpressure: a client that does not read stops the upstream being read', async () => {
    const { stream, sse } = createSSEStream({ highWaterMark: 1000, maxBuffered: 1_000_000 });
    let pulled = 0;
    const frame = new TextEncoder().encode(`data: ${'z'.repeat(92)}\n\n`); // 100 bytes out
    const upstream = new ReadableStream<Uint8Array>(
      {
        pull: (c) => {
          pulled++;
          if (pulled > 300) c.close();
          else c.enqueue(frame);
        },
      },
      { highWaterMark: 0 },
    );
    let settled = false;
    const forwarding = forward(sse, upstream, { done: '[DONE]', close: true }).then((r) => ((settled = true), r));
    for (let i = 0; i < 20; i++) await turn();
    expect(settled).toBe(false);
    // 11 frames pass 1000 bytes; one more read may be in flight.
    expect(pulled).toBeGreaterThanOrEqual(11);
    expect(pulled).toBeLessThanOrEqual(12);
    const text: string[] = [];
    const reader = stream.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const r = await within(reader.read(), 'the rest');
      if (r.done) break;
      text.push(dec.decode(r.value, { stream: true }));
    }
    const result = await forwarding;
    expect(result).toEqual({ events: 300, bytes: 30000, reason: 'end' });
    const events = parseAll(text.join(''));
    expect(events).toHaveLength(301);
    expect(events[300].data).toBe('[DONE]');
  });

  test('bad arguments are TypeErrors naming the fix', () => {
    const { stream, sse } = createSSEStream();
    expect(() => forward(sse, 'data: x\n\n' as never)).toThrow(/got a string/);
    expect(() => forward(sse, [], { abort: {} as never })).toThrow(/`abort` must be an AbortController/);
    expect(() => forward(sse, [], { comments: 1 as never })).toThrow(/`comments` must be a boolean/);
    void stream.cancel();
  });
});



