// The core's own listener through the binding itself (native/addon/
// listener_binding.cc), with raw node:net clients on 127.0.0.1: a complete
// head arrives as one REQUEST record in the notify batch, requestHead gives
// it parsed, acceptRequest turns it into a socket member that receives a
// send, respondRequest answers and closes, the core answers a bad head
// itself, and stale ids get ENOENT. lib/'s listenSSE() is tested on its own.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { C, native } from '../lib/native/binding';
import { createJsBinding } from '../lib/native/js-engine';
import { eventually } from './helpers/server';

interface Client {
  socket: net.Socket;
  got: string;
  ended: boolean;
}

function connect(port: number, head: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c: Client = { socket: net.connect(port, '127.0.0.1'), got: '', ended: false };
    c.socket.setEncoding('latin1');
    c.socket.on('data', (d: string) => (c.got += d));
    c.socket.on('end', () => (c.ended = true));
    c.socket.on('close', () => (c.ended = true));
    c.socket.on('error', () => undefined);
    c.socket.once('connect', () => {
      c.socket.write(head);
      resolve(c);
    });
    c.socket.once('error', reject);
  });
}

const requests: number[][] = [];
const closes: number[][] = [];
let listenerId = 0;
const members: number[] = [];

beforeAll(() => {
  native.setNotify((records, n) => {
    for (let i = 0; i < n; i++) {
      const rec = [records[i * 3], records[i * 3 + 1], records[i * 3 + 2]];
      if (rec[1] === C.Notify.REQUEST) requests.push(rec);
      if (rec[1] === C.Notify.CLOSE) closes.push(rec);
    }
  });
});

afterAll(async () => {
  native.closeListener(listenerId);
  for (const id of members) native.close(id, false);
  await eventually(() => closes.length >= members.length, 'the members to close');
});

const options = { highWaterMark: 65536, maxBuffered: 1 << 20, policy: 0, heartbeatMs: 0, idleTimeoutMs: 0, maxDurationMs: 0 };

test('listen, a raw client, REQUEST, requestHead, acceptRequest, send', async () => {
  listenerId = native.listen('127.0.0.1', 0, 511, 8192, 10000, 4096);
  expect(listenerId).toBeGreaterThanOrEqual(1);
  const address = native.listenerAddress(listenerId);
  expect(address?.[0]).toBe('127.0.0.1');
  const port = address![1];
  expect(port).toBeGreaterThan(0);

  const client = await connect(port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
  await eventually(() => requests.length === 1, 'the REQUEST record');
  const [pendingId, , fromListener] = requests[0];
  expect(fromListener).toBe(listenerId);
  const head = native.requestHead(pendingId);
  expect(head).toEqual(['GET', '/x', 1, '127.0.0.1', client.socket.localPort, 0, 'Host', 'a']);

  const id = native.open(options);
  members.push(id);
  const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n';
  expect(native.acceptRequest(pendingId, id, Buffer.from(response))).toBe(0);
  expect(native.send(id, 'greet', 'hello', undefined, undefined, undefined)).toBe(C.SendResult.SUCCESS);
  const expected = `${response}event: greet\ndata: hello\n\n`;
  await eventually(() => client.got.length >= expected.length, 'the head and the event');
  expect(client.got).toBe(expected);

  // The pending connection is gone: its id is stale now.
  expect(native.requestHead(pendingId)).toBeUndefined();
  expect(native.acceptRequest(pendingId, id, Buffer.alloc(0))).toBe(C.Errno.ENOENT);
  expect(native.respondRequest(pendingId, 404, 'Not Found', [], [], Buffer.alloc(0))).toBe(C.Errno.ENOENT);
  expect(native.stats().connectionsAdopted).toBeGreaterThanOrEqual(1);

  client.socket.destroy();
  await eventually(() => closes.some((r) => r[0] === id), 'the member to close when its client left');
  expect(closes.find((r) => r[0] === id)![2]).toBe(C.Errno.EOF);
  members.pop();
});

test('respondRequest answers and closes; a bad header throws and writes nothing', async () => {
  const port = native.listenerAddress(listenerId)![1];
  const client = await connect(port, 'GET /nope HTTP/1.1\r\nHost: a\r\n\r\n');
  await eventually(() => requests.length === 2, 'the REQUEST record');
  const pendingId = requests[1][0];
  expect(() => native.respondRequest(pendingId, 404, 'Not Found', ['Bad Name'], ['x'], Buffer.alloc(0))).toThrow(
    expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_HTTP_TOKEN' }),
  );
  expect(native.respondRequest(pendingId, 404, 'Not Found', ['Content-Type'], ['text/plain'], Buffer.from('no such stream\n'))).toBe(0);
  await eventually(() => client.ended, 'the connection to close');
  expect(client.got).toBe(
    'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\nno such stream\n',
  );
  client.socket.destroy();
});

test('a bad head is answered by the core and never reaches JS', async () => {
  const port = native.listenerAddress(listenerId)![1];
  const client = await connect(port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n');
  await eventually(() => client.ended, 'the 400 and the close');
  expect(client.got).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*Connection: close\r\n\r\nbad header field/);
  expect(requests.length).toBe(2);
  client.socket.destroy();
  const stats = native.listenerStats(listenerId)!;
  expect(stats).toMatchObject({ accepted: 3, requests: 2, badHeads: 1, adopted: 1, responded: 1 });
});

test('listen errors are codes; closeListener is idempotent; the JS engine refuses listen', () => {
  const port = native.listenerAddress(listenerId)![1];
  expect(native.listen('127.0.0.1', port, 511, 8192, 10000, 4096)).toBe(C.Errno.EADDRINUSE);
  expect(native.listen('not an address', 0, 511, 8192, 10000, 4096)).toBe(C.Errno.EINVAL);
  native.closeListener(listenerId);
  native.closeListener(listenerId);
  expect(native.listenerAddress(listenerId)).toBeUndefined();
  expect(native.listenerStats(listenerId)).toBeUndefined();
  const js = createJsBinding();
  expect(js.listen('127.0.0.1', 0, 511, 8192, 10000, 4096)).toBe(js.constants.Errno.ENOTSUP);
  expect(js.requestHead(1)).toBeUndefined();
});

// Run in a child process, so an abort fails this test instead of killing
// Jest's worker: the environment cleanup hook must close a terminated
// Worker's listener and its pending connections (one reading its head, one
// waiting for an answer), and the process must exit by itself.
test('terminating a Worker closes its listener and pending connections', () => {
  const dist = path.join(__dirname, '..', 'dist', 'native', 'binding.js');
  const script = `
    const { Worker } = require('node:worker_threads');
    const net = require('node:net');
    const src = \`
      const { native } = require(\${JSON.stringify(${JSON.stringify(dist)})});
      const { parentPort } = require('node:worker_threads');
      native.setNotify(() => {});
      const id = native.listen('127.0.0.1', 0, 511, 8192, 10000, 4096);
      parentPort.postMessage(native.listenerAddress(id)[1]);
    \`;
    let n = 0;
    function round() {
      if (n++ >= 10) { console.log('survived'); return; }
      const w = new Worker(src, { eval: true });
      w.once('message', (port) => {
        const a = net.connect(port, '127.0.0.1', () => a.write('GET / HT'));
        const b = net.connect(port, '127.0.0.1', () => b.write('GET / HTTP/1.1\\\\r\\\\nHost: a\\\\r\\\\n\\\\r\\\\n'));
        let closed = 0;
        for (const s of [a, b]) { s.on('error', () => {}); s.on('close', () => { if (++closed === 2) after(port); }); }
        setTimeout(() => w.terminate(), 20);
      });
    }
    function after(port) {
      const c = net.connect(port, '127.0.0.1');
      c.on('connect', () => { console.log('still listening'); process.exit(1); });
      c.on('error', () => round());
    }
    round();
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).not.toMatch(/FATAL ERROR|Assertion/);
  expect(r.signal).toBeNull();
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('survived');
}, 90_000);
