// Web streams (createSSEStream() with no request) are hub members like any
// other: the `key` option or registerConnection, broadcasts arrive as the
// same bytes encodeEvent gives, replay with resume, and a reader that goes
// away leaves every key.
import { encodeEvent } from '../lib/native/encoder';
import { broadcast, configureKey, getConnectionCount, registerConnection } from '../lib/hub/hub';
import { createSSEStream } from '../lib/index';
import { eventually, useTestEnv, within } from './helpers/server';

useTestEnv();

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, want: string): Promise<string> {
  let got = '';
  const dec = new TextDecoder();
  while (got.length < want.length) {
    const { value, done } = await within(reader.read(), `the stream to carry ${JSON.stringify(want)}`);
    if (done) break;
    got += dec.decode(value, { stream: true });
  }
  return got;
}

test('a web stream in two keys gets both keys\' broadcasts as encodeEvent bytes, and leaves both when its reader cancels', async () => {
  const { stream, sse } = createSSEStream({ key: 'web-a', heartbeatMs: 0 });
  expect(registerConnection('web-b', sse)).toBe(true);
  expect(getConnectionCount('web-a')).toBe(1);
  expect(getConnectionCount('web-b')).toBe(1);
  const reader = stream.getReader();
  expect(broadcast('web-a', 'tick', { n: 1 })).toBe(1);
  expect(broadcast('web-b', { event: 'tock', data: 'two', id: '7' })).toBe(1);
  const want =
    encodeEvent({ event: 'tick', data: { n: 1 } }).toString() + encodeEvent({ event: 'tock', data: 'two', id: '7' }).toString();
  expect(await readUntil(reader, want)).toBe(want);
  await reader.cancel();
  await eventually(() => sse.closed, 'the stream to close after cancel');
  expect(getConnectionCount('web-a')).toBe(0);
  expect(getConnectionCount('web-b')).toBe(0);
  expect(broadcast('web-a', 'tick', 'nobody')).toBe(0);
});

test('a web stream with resume gets what it missed after the request\'s Last-Event-ID', async () => {
  configureKey('web-replay', { replay: { maxEvents: 10 } });
  for (let i = 1; i <= 4; i++) broadcast('web-replay', 'e', `d${i}`);
  const request = new Request('http://127.0.0.1/events', { headers: { 'Last-Event-ID': '2' } });
  const { stream, sse } = createSSEStream({ request, key: 'web-replay', resume: true, heartbeatMs: 0 });
  broadcast('web-replay', 'e', 'd5');
  const want = [3, 4, 5].map((i) => encodeEvent({ event: 'e', id: String(i), data: `d${i}` }).toString()).join('');
  const reader = stream.getReader();
  expect(await readUntil(reader, want)).toBe(want);
  sse.close();
  expect((await within(reader.read(), 'the end of the stream')).done).toBe(true);
  configureKey('web-replay', { replay: null });
});
