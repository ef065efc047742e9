// The response head of createSSEStream on both sinks: status, the SSE
// headers, the app's own headers, options.headers; on the adopted sink the
// body is delimited by the connection (no chunked framing, no length).
import { SINKS, connect, startSSE, useTestEnv } from './helpers/server';

useTestEnv();

const SSE_HEADERS: [string, string][] = [
  ['content-type', 'text/event-stream; charset=utf-8'],
  ['cache-control', 'no-cache, no-transform'],
  ['connection', 'keep-alive'],
  ['x-accel-buffering', 'no'],
];

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('status 200 and the SSE headers, each once', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    const head = await client.waitForHead();
    expect(head.statusLine).toBe('HTTP/1.1 200 OK');
    for (const [name, value] of SSE_HEADERS) expect(head.headers.get(name)).toEqual([value]);
    expect(client.reader.header('content-length')).toBeUndefined();
  });

  test('options.status sets the status line', async () => {
    const srv = await startSSE({ ...sinkOpts, status: 201 });
    const client = await connect(srv.port);
    expect((await srv.opened.next()).stream.sinkKind).toBe(kind);
    const head = await client.waitForHead();
    expect(head.statusCode).toBe(201);
    expect(head.statusLine).toBe('HTTP/1.1 201 Created');
  });

  test("headers the app set before (CORS) are sent with their case; options.headers override", async () => {
    const srv = await startSSE({ ...sinkOpts, headers: { 'X-Override': 'from-options', 'Cache-Control': 'no-store' } }, (_req, res) => {
      res.setHeader('Access-Control-Allow-Origin', 'https://app.example');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('X-Override', 'from-app');
      res.setHeader('Content-Type', 'text/html'); // the SSE set wins over the app
    });
    const client = await connect(srv.port, { headers: { Origin: 'https://app.example' } });
    expect((await srv.opened.next()).stream.sinkKind).toBe(kind);
    const head = await client.waitForHead();
    const names = head.raw.map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials', 'Vary']));
    expect(head.headers.get('access-control-allow-origin')).toEqual(['https://app.example']);
    expect(head.headers.get('access-control-allow-credentials')).toEqual(['true']);
    expect(head.headers.get('vary')).toEqual(['Origin']);
    expect(head.headers.get('set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(head.headers.get('x-override')).toEqual(['from-options']);
    expect(head.headers.get('cache-control')).toEqual(['no-store']);
    expect(head.headers.get('content-type')).toEqual(['text/event-stream; charset=utf-8']);
  });

  test('a Content-Length the app set is not sent', async () => {
    const srv = await startSSE({ ...sinkOpts }, (_req, res) => res.setHeader('Content-Length', '5'));
    const client = await connect(srv.port);
    expect((await srv.opened.next()).stream.sinkKind).toBe(kind);
    await client.waitForHead();
    expect(client.reader.header('content-length')).toBeUndefined();
  });

  test('framing: the body is exactly the frames, then it ends', async () => {
    const srv = await startSSE({ ...sinkOpts });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    stream.send({ data: 'hello' });
    stream.send({ event: 'e', id: '7', data: 'x' });
    stream.close();
    await client.waitForEnd();
    expect(client.reader.bodyText).toBe('data: hello\n\nevent: e\nid: 7\ndata: x\n\n');
    const rawHead = client.reader.headBytes.toString('latin1');
    expect(rawHead).not.toMatch(/content-length/i);
    if (kind === 'adopted') {
      // Raw bytes over node:net: no chunked framing; the FIN ends the body.
      expect(rawHead).not.toMatch(/transfer-encoding/i);
      expect(client.gotEOF).toBe(true);
      expect(client.reader.terminalChunk).toBe(false);
    } else {
      // res.write on HTTP/1.1: chunked, ended by the terminal chunk.
      expect(client.reader.header('transfer-encoding')).toBe('chunked');
      expect(client.reader.terminalChunk).toBe(true);
      expect(client.reader.trailing).toBe(0);
    }
  });
});
