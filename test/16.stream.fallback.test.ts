// Where the core may not adopt the socket, createSSEStream falls back to
// res.write on its own: HTTPS (TLS wraps the fd) and HTTP/2 (the fd is the
// session's). Same frames, same lifetime; HTTP/2 gets no connection-specific
// headers.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { createParser, type EventSourceMessage } from '../lib/native/parser';
import { createSSEStream } from '../lib/index';
import { Queue, SSEClient, listen, requestBytes, within, type Opened, useTestEnv } from './helpers/server';

useTestEnv();

describe('HTTPS', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-native-tls-'));
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
         '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
        { stdio: 'pipe' },
      );
    } catch (err) {
      throw new Error(`the HTTPS tests need openssl to make a self-signed certificate (apt-get install openssl): ${String(err)}`);
    }
    key = fs.readFileSync(path.join(dir, 'key.pem'));
    cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function connectTls(port: number, urlPath: string): Promise<SSEClient> {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: cert });
    const client = new SSEClient(socket);
    await within(once(socket, 'secureConnect'), 'the TLS handshake');
    socket.write(requestBytes(port, { path: urlPath }));
    return client;
  }

  test.each([
    ['default options', {}],
    ['adopt: false', { adopt: false }],
  ])("%s: sinkKind 'response', headers, events, end", async (_name, sinkOpts) => {
    const opened = new Queue<Opened>();
    const srv = await listen(
      https.createServer({ key, cert }, (req, res) => {
        res.setHeader('Access-Control-Allow-Origin', '*');
        const stream = createSSEStream(req, res, { ...sinkOpts, retry: 1000 });
        opened.push({ stream, req, res });
      }),
    );
    const client = await connectTls(srv.port, '/events');
    const { stream } = await opened.next();
    expect(stream.sinkKind).toBe('response');
    stream.send({ event: 'a', id: '1', data: 'over TLS' });
    stream.send({ data: { n: 2 } });
    stream.close();
    await client.waitForEnd();
    expect(client.head!.statusCode).toBe(200);
    expect(client.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.reader.header('access-control-allow-origin')).toBe('*');
    expect(client.items).toEqual([
      { type: 'retry', ms: 1000 },
      { type: 'event', event: { event: 'a', id: '1', data: 'over TLS' } },
      { type: 'event', event: { event: undefined, id: undefined, data: '{"n":2}' } },
    ]);
    if (!stream.closed) await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.closeReason).toBeUndefined();
  });

  test('the client leaving closes the stream with a closeReason', async () => {
    const opened = new Queue<Opened>();
    const srv = await listen(https.createServer({ key, cert }, (req, res) => opened.push({ stream: createSSEStream(req, res), req, res })));
    const client = await connectTls(srv.port, '/events');
    const { stream } = await opened.next();
    expect(stream.sinkKind).toBe('response');
    stream.send({ data: 'x' });
    await client.waitForEvents(1);
    client.destroy();
    await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeInstanceOf(Error);
  });
});

describe('HTTP/2 cleartext (compat API)', () => {
  interface H2Client {
    session: http2.ClientHttp2Session;
    req: http2.ClientHttp2Stream;
    headers: Promise<http2.IncomingHttpHeaders>;
    events: EventSourceMessage[];
    ended: Promise<void>;
  }
  const sessions = new Set<http2.ClientHttp2Session>();
  afterEach(() => {
    for (const s of sessions) s.destroy();
    sessions.clear();
  });

  async function h2Server(onStream?: (o: Opened) => void) {
    const opened = new Queue<Opened>();
    const server = http2.createServer((req, res) => {
      res.setHeader('access-control-allow-origin', '*');
      const stream = createSSEStream(req, res, { retry: 500 });
      const o = { stream, req, res } as unknown as Opened;
      onStream?.(o);
      opened.push(o);
    });
    const srv = await listen(server);
    return { ...srv, opened };
  }

  function h2Get(port: number, urlPath: string): H2Client {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    sessions.add(session);
    session.on('error', () => undefined);
    const req = session.request({ ':path': urlPath, accept: 'text/event-stream' });
    req.on('error', () => undefined);
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e) });
    req.on('data', (chunk: Buffer) => parser.feed(chunk));
    const headers = within(once(req, 'response').then(([h]) => h as http2.IncomingHttpHeaders), 'the HTTP/2 response headers');
    const ended = within(once(req, 'end').then(() => undefined), 'the end of the HTTP/2 stream');
    headers.catch(() => undefined);
    ended.catch(() => undefined);
    return { session, req, headers, events, ended };
  }

  test("sinkKind 'response'; no connection or transfer-encoding header; events arrive; close() ends the stream", async () => {
    const srv = await h2Server();
    const client = h2Get(srv.port, '/events');
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe('response');
    const headers = await client.headers;
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers['cache-control']).toBe('no-cache, no-transform');
    expect(headers['x-accel-buffering']).toBe('no');
    expect(headers['access-control-allow-origin']).toBe('*');
    expect(headers).not.toHaveProperty('connection');
    expect(headers).not.toHaveProperty('transfer-encoding');
    expect(headers).not.toHaveProperty('keep-alive');
    for (let i = 0; i < 20; i++) stream.send({ id: String(i), data: `h2 ${i}` });
    stream.close();
    await client.ended;
    expect(client.events).toEqual(Array.from({ length: 20 }, (_, i) => ({ event: undefined, id: String(i), data: `h2 ${i}` })));
    if (!stream.closed) await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.closeReason).toBeUndefined();
  });

  test('the client cancelling the request closes the stream with a closeReason', async () => {
    const srv = await h2Server();
    const client = h2Get(srv.port, '/events');
    const { stream } = await srv.opened.next();
    stream.send({ data: 'first' });
    await within(
      new Promise<void>((resolve) => client.req.on('data', () => client.events.length > 0 && resolve())),
      'the first event over HTTP/2',
    );
    client.req.close(http2.constants.NGHTTP2_CANCEL);
    await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeInstanceOf(Error);
    expect(stream.send({ data: 'nobody' })).toBe(false);
  });
});
