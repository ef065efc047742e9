// events(): `for await` over a stream (Node entry), and the browser entry
// (lib/client/browser.ts: fetch + the TypeScript parser) against the same
// real servers. Leaving a loop must close the connection.
import * as browser from '../lib/client/browser';
import { SSEHttpError, events, type EventSourceMessage } from '../lib/node-client';
import { SINKS, Queue, startHttp, startSSE, within, useTestEnv } from './helpers/server';

const controllers: AbortController[] = [];
useTestEnv(async () => {
  for (const c of controllers.splice(0)) c.abort();
});

function controller(): AbortController {
  const ac = new AbortController();
  controllers.push(ac);
  return ac;
}

async function collect(it: AsyncIterable<EventSourceMessage>, stopAt = Infinity): Promise<EventSourceMessage[]> {
  const out: EventSourceMessage[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (out.length >= stopAt) break;
  }
  return out;
}

const ENTRIES: [string, typeof events][] = [
  ['node entry (node:http + native parser)', events],
  ['browser entry (fetch + parser-ts)', browser.events],
];

describe.each(ENTRIES)('%s', (_name, eventsOf) => {
  describe.each(SINKS)('createSSEStream, %s sink', (_kind, sinkOpts) => {
    test('for await gets every event in order and ends with the stream', async () => {
      const srv = await startHttp(async (req, res) => {
        const { createSSEStream } = await import('../lib/index');
        const sse = createSSEStream(req, res, { ...sinkOpts, heartbeatMs: 0 });
        sse.comment('hello');
        for (let i = 0; i < 300; i++) sse.send({ event: i % 2 ? 'odd' : undefined, data: { i }, id: String(i) });
        sse.send({ data: 'é 🚀\nline' });
        sse.close();
      });
      const got = await within(collect(eventsOf(`http://127.0.0.1:${srv.port}/`, { retryDelay: 1 })), 'the whole stream');
      expect(got).toHaveLength(301);
      expect(got[0]).toEqual({ event: undefined, id: '0', data: '{"i":0}' });
      expect(got[299]).toEqual({ event: 'odd', id: '299', data: '{"i":299}' });
      expect(got[300]).toEqual({ event: undefined, id: undefined, data: 'é 🚀\nline' });
    });

    test('json: true yields { event, data, id }: the name (message for unnamed), data by the server rule', async () => {
      type Events = { progress: { pct: number }; done: string; message: unknown };
      const srv = await startHttp(async (req, res) => {
        const { createSSEStream } = await import('../lib/index');
        const sse = createSSEStream<Events>(req, res, { ...sinkOpts, heartbeatMs: 0 });
        sse.send({ event: 'progress', data: { pct: 50 }, id: '1' });
        sse.send({ event: 'done', data: 'ok' });
        sse.send({ event: 'message', data: [1, 'two'] });
        sse.send({ event: 'message', data: '[DONE]' });
        sse.close();
      });
      const got: unknown[] = [];
      for await (const ev of eventsOf<Events>(`http://127.0.0.1:${srv.port}/`, { json: true, retryDelay: 1 })) {
        if (ev.event === 'progress') got.push(ev.data.pct); // typed: a number
        got.push(ev);
      }
      expect(got).toEqual([
        50,
        { event: 'progress', data: { pct: 50 }, id: '1' },
        { event: 'done', data: 'ok', id: undefined },
        { event: 'message', data: [1, 'two'], id: undefined },
        { event: 'message', data: '[DONE]', id: undefined },
      ]);
    });

    test('break closes the connection', async () => {
      const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
      const it = eventsOf(`http://127.0.0.1:${srv.port}/`);
      const first = it.next(); // connects on the first next()
      const { stream } = await srv.opened.next();
      const left = new Promise((r) => stream.once('close', r));
      stream.send({ data: 'one' });
      stream.send({ data: 'two' });
      expect((await within(first, 'the first event')).value).toEqual({ event: undefined, id: undefined, data: 'one' });
      await within(it.return(undefined), 'return()');
      await within(left, 'the server stream to see the client leave');
      expect(await it.next()).toEqual({ done: true, value: undefined });
    });
  });

  test('a reconnect carries Last-Event-ID, and a slow consumer loses nothing', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await startHttp((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (seen.length === 1) {
        let s = 'retry: 1\n';
        for (let i = 0; i < 100; i++) s += `id: ${i}\ndata: ${i}\n\n`;
        res.write(s, () => setImmediate(() => res.socket?.destroy()));
      } else {
        res.end('id: 100\ndata: 100\n\n');
      }
    });
    const got: number[] = [];
    const loop = async () => {
      for await (const ev of eventsOf(`http://127.0.0.1:${srv.port}/`, { highWaterMark: 4 })) {
        got.push(Number(ev.data));
        if (got.length % 10 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    };
    await within(loop(), 'the whole stream');
    expect(got).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(seen).toEqual([undefined, '99']);
  });

  test('an HTTP error is thrown from the loop', async () => {
    const srv = await startHttp((_req, res) => {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('forbidden');
    });
    const err = (await collect(eventsOf(`http://127.0.0.1:${srv.port}/`)).catch((e: unknown) => e)) as SSEHttpError;
    expect(err).toBeInstanceOf(SSEHttpError);
    expect([err.status, err.body]).toEqual([403, 'forbidden']);
  });

  test('signal abort ends the loop', async () => {
    const srv = await startSSE({ heartbeatMs: 0 });
    const ac = controller();
    const got = new Queue<string>();
    const loop = (async () => {
      for await (const ev of eventsOf(`http://127.0.0.1:${srv.port}/`, { signal: ac.signal })) got.push(ev.data);
    })();
    const { stream } = await srv.opened.next();
    stream.send({ data: 'x' });
    expect(await got.next()).toBe('x');
    ac.abort();
    await within(loop, 'the loop to end');
  });
});

describe('browser entry', () => {
  test('fetchEventSource with a POST body over fetch and parser-ts, split UTF-8', async () => {
    const bytes = Buffer.from('data: 中文🚀\r\n\r\nevent: end\ndata: \n\n', 'utf8');
    const bodies: string[] = [];
    const srv = await startHttp((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        let at = 0;
        const next = () => {
          if (at >= bytes.length) return res.end();
          res.write(bytes.subarray(at, at + 2));
          at += 2;
          setTimeout(next, 1);
        };
        next();
      });
    });
    const got: EventSourceMessage[] = [];
    await within(
      browser.fetchEventSource(`http://127.0.0.1:${srv.port}/`, {
        method: 'POST',
        body: '{"q":1}',
        onmessage: (m) => void got.push(m),
      }),
      'the stream',
    );
    expect(bodies).toEqual(['{"q":1}']);
    expect(got).toEqual([
      { event: undefined, id: undefined, data: '中文🚀' },
      { event: 'end', id: undefined, data: '' },
    ]);
  });

  test('the browser entry imports nothing from node: or the addon', async () => {
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1];
        const typeOnly = /^(?:import|export)\s+type\s/.test(m[0]);
        expect(spec.startsWith('node:') && !typeOnly ? spec : '').toBe('');
        if (typeOnly || !spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), `${spec}.ts`);
        expect(path.basename(target) === 'native.ts' || path.basename(target) === 'parser.ts' ? `${file} -> ${spec}` : '').toBe('');
        visit(target);
      }
    };
    visit(path.join(__dirname, '..', 'lib', 'client', 'browser.ts'));
    expect(seen.size).toBeGreaterThan(3);
  });
});
