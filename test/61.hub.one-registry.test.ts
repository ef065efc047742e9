// The core hub is the only registry (docs/architecture.md): a POST stream
// registered while its body is read becomes a socket member once adopted
// (the core writes its broadcasts: no hand-off to JS per member); counts,
// keys and metrics are the same whichever sinks the members use.
import { broadcast, createSSEStream, getConnectionCount, getConnectionKeys, getMetrics, registerConnection, unregisterConnection } from '../lib/index';
import { native } from '../lib/native/binding';
import { connect, eventually, onNative, testAdopted, turn } from './helpers/server';
import { newKey, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

testAdopted('a POST stream adopted after its body is a socket member: 200 broadcasts reach it with no JS hand-off', async () => {
  const k = newKey('post-socket');
  const srv = await startHub({ heartbeatMs: 0, key: k });
  const client = await connect(srv.port, { method: 'POST', headers: { 'Content-Length': '4' }, body: 'ab' });
  const { stream } = await srv.opened.next();
  expect(stream.sinkKind).toBe('pending');
  expect(broadcast(k, 'before', 0)).toBe(1);
  client.socket.write('cd');
  await client.waitForEvents(1);
  expect(stream.sinkKind).toBe('adopted');
  const handoffs = native.stats().handoffs;
  for (let i = 1; i <= 200; i++) expect(broadcast(k, 'after', i)).toBe(1);
  await client.waitForEvents(201);
  // Written by the core: not one buffer was handed to JS for this member.
  expect(native.stats().handoffs).toBe(handoffs);
  expect(client.events.map((e) => e.data)).toEqual(Array.from({ length: 201 }, (_, i) => String(i)));
});

test('the same broadcast to a fallback member is handed to JS once per loop turn, not once per event', async () => {
  const k = newKey('fallback-turn');
  const srv = await startHub({ heartbeatMs: 0, key: k, adopt: false });
  const client = await connect(srv.port);
  const { stream } = await srv.opened.next();
  expect(stream.sinkKind).toBe('response');
  await turn();
  const handoffs = native.stats().handoffs;
  for (let i = 0; i < 100; i++) broadcast(k, 'burst', i); // one loop turn
  await client.waitForEvents(100);
  expect(native.stats().handoffs - handoffs).toBe(1);
});

test('getConnectionCount(key) and the metrics count every kind of member alike', async () => {
  const k = newKey('mixed');
  const adopted = await startHub({ heartbeatMs: 0, key: k });
  const fallback = await startHub({ heartbeatMs: 0, key: k, adopt: false });
  const a = await connect(adopted.port);
  const b = await connect(fallback.port);
  const sa = (await adopted.opened.next()).stream;
  const sb = (await fallback.opened.next()).stream;
  const web = createSSEStream({ key: k, heartbeatMs: 0 });
  const fn = () => {};
  registerConnection(k, fn);
  expect([sa.sinkKind, sb.sinkKind, web.sse.sinkKind]).toEqual([onNative ? 'adopted' : 'response', 'response', 'web']);
  expect(getConnectionCount(k)).toBe(4);
  expect(getConnectionKeys()).toContain(k);
  expect(getMetrics().keys[k]).toBe(4);
  expect(broadcast(k, 'all', 1)).toBe(4);
  await a.waitForEvents(1);
  await b.waitForEvents(1);
  const reader = web.stream.getReader();
  const { value } = await reader.read();
  expect(Buffer.from(value!).toString()).toBe('event: all\ndata: 1\n\n');
  b.destroy();
  await eventually(() => getConnectionCount(k) === 3, 'the fallback member leaves its key');
  await reader.cancel();
  expect(getConnectionCount(k)).toBe(2);
  expect(unregisterConnection(k, fn)).toBe(true);
  expect(getConnectionCount(k)).toBe(1);
});
