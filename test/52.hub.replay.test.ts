// Replay on both sinks: a key with a replay ring, a client resuming with
// Last-Event-ID (header or ?lastEventId=) gets what it missed, in order,
// then live events, each exactly once; an id no longer in the ring (evicted
// by maxEvents, expired by maxAgeMs, or never seen) is announced with an
// `sse-gap` event; no Last-Event-ID or no resume: nothing replayed.
import { broadcast, configureKey, getConnectionKeys, registerConnection } from '../lib/index';
import { SINKS, connect, type RequestSpec, type SSEClient } from './helpers/server';
import { newKey, sleep, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const ids = (c: SSEClient) => c.events.map((e) => e.id);
const datas = (c: SSEClient) => c.events.map((e) => e.data);

/** A fresh key with a ring of `maxEvents`, holding events e1..e<n> with ids "1".."n" (broadcast before anyone listens). */
function keyWithHistory(n: number, replay: { maxEvents?: number; maxAgeMs?: number } = { maxEvents: 100 }): string {
  const k = newKey('replay');
  configureKey(k, { replay });
  for (let i = 1; i <= n; i++) expect(broadcast(k, 'tick', `e${i}`)).toBe(0);
  return k;
}

/** Broadcasts a marker and waits for it: everything sent before it has arrived, nothing extra can follow unseen. */
async function settle(k: string, client: SSEClient, tag = 'end'): Promise<void> {
  broadcast(k, 'marker', tag);
  await client.waitFor((c) => c.events.some((e) => e.event === 'marker' && e.data === tag), `the marker ${tag}`);
}

const RESUMES: [string, RequestSpec][] = [
  ['the Last-Event-ID header', { headers: { 'Last-Event-ID': '4' } }],
  ['the lastEventId query parameter', { path: '/events?lastEventId=4' }],
];

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test.each(RESUMES)('resuming with %s: 5..10 from the ring in order, then live events, each exactly once', async (_, spec) => {
    const k = keyWithHistory(10);
    expect(getConnectionKeys()).not.toContain(k);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port, spec);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(stream.lastEventId).toBe('4');
    await client.waitForEvents(6);
    expect(ids(client)).toEqual(range(5, 10));
    expect(datas(client)).toEqual(['e5', 'e6', 'e7', 'e8', 'e9', 'e10']);
    expect(client.events.every((e) => e.event === 'tick')).toBe(true);
    expect(broadcast(k, 'tick', 'e11')).toBe(1);
    expect(broadcast(k, 'tick', 'e12')).toBe(1);
    await settle(k, client);
    expect(ids(client)).toEqual(range(5, 13));
    expect(datas(client)).toEqual(['e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12', 'end']);
  });

  test('registerConnection(key, stream, { resume: true }) replays too, and a broadcast in the same turn comes after the replay, once', async () => {
    const k = keyWithHistory(10);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0 }, ({ stream }) => {
      expect(registerConnection(k, stream, { resume: true })).toBe(true);
      broadcast(k, 'tick', 'e11'); // before the replay has left, in the same turn
    });
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': '7' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    broadcast(k, 'tick', 'e12');
    await settle(k, client);
    expect(ids(client)).toEqual(range(8, 13));
    expect(datas(client)).toEqual(['e8', 'e9', 'e10', 'e11', 'e12', 'end']);
  });

  test('Last-Event-ID equal to the newest id: nothing replayed, no gap, live events follow', async () => {
    const k = keyWithHistory(10);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': '10' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    broadcast(k, 'tick', 'e11');
    await settle(k, client);
    expect(ids(client)).toEqual(['11', '12']);
    expect(datas(client)).toEqual(['e11', 'end']);
  });

  test('an id evicted by maxEvents: an `sse-gap` event with {"lastEventId": "4"} first, then live events only', async () => {
    const k = keyWithHistory(10, { maxEvents: 3 }); // the ring holds 8, 9, 10
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': '4' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForEvents(1);
    const gap = client.events[0];
    expect(gap.event).toBe('sse-gap');
    expect(JSON.parse(gap.data)).toEqual({ lastEventId: '4' });
    broadcast(k, 'tick', 'e11');
    await settle(k, client);
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      ['sse-gap', gap.data],
      ['tick', 'e11'],
      ['marker', 'end'],
    ]);
    expect(client.events.slice(1).map((e) => e.id)).toEqual(['11', '12']);
  });

  test('an id the key never had (with quotes and a backslash): `sse-gap` carrying exactly what the client sent', async () => {
    const weird = 'no"such\\id';
    const k = keyWithHistory(5);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port, { path: `/?lastEventId=${encodeURIComponent(weird)}` });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(stream.lastEventId).toBe(weird);
    broadcast(k, 'tick', 'e6');
    await settle(k, client);
    expect(client.events.map((e) => e.event)).toEqual(['sse-gap', 'tick', 'marker']);
    expect(JSON.parse(client.events[0].data)).toEqual({ lastEventId: weird });
    expect(datas(client).slice(1)).toEqual(['e6', 'end']);
  });

  test('maxAgeMs: events older than the age are gone (sse-gap for an expired id); recent ones are replayed', async () => {
    const k = keyWithHistory(3, { maxEvents: 100, maxAgeMs: 500 });
    await sleep(800); // e1..e3 expire
    for (let i = 4; i <= 6; i++) broadcast(k, 'tick', `e${i}`);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const recent = await connect(srv.port, { headers: { 'Last-Event-ID': '4' } });
    const expired = await connect(srv.port, { headers: { 'Last-Event-ID': '2' } });
    const streams = [(await srv.opened.next()).stream, (await srv.opened.next()).stream];
    expect(streams.map((s) => s.sinkKind)).toEqual([kind, kind]);
    await settle(k, recent);
    await expired.waitFor((c) => c.events.some((e) => e.event === 'marker'), 'the marker');
    expect(datas(recent)).toEqual(['e5', 'e6', 'end']);
    expect(ids(recent)).toEqual(['5', '6', '7']);
    expect(expired.events.map((e) => e.event)).toEqual(['sse-gap', 'marker']);
    expect(JSON.parse(expired.events[0].data)).toEqual({ lastEventId: '2' });
  });

  test('maxAgeMs alone expires everything after the age: a resume then only gets the gap and live events', async () => {
    const k = keyWithHistory(5, { maxAgeMs: 200 });
    await sleep(500);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': '3' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await settle(k, client);
    expect(client.events.map((e) => e.event)).toEqual(['sse-gap', 'marker']);
    expect(JSON.parse(client.events[0].data)).toEqual({ lastEventId: '3' });
  });

  test('resume: true without a Last-Event-ID: nothing replayed, live events only', async () => {
    const k = keyWithHistory(10);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    expect(stream.lastEventId).toBeUndefined();
    broadcast(k, 'tick', 'e11');
    await settle(k, client);
    expect(datas(client)).toEqual(['e11', 'end']);
    expect(ids(client)).toEqual(['11', '12']);
  });

  test('a Last-Event-ID without resume: nothing replayed, live events only', async () => {
    const k = keyWithHistory(10);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k });
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': '4' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    broadcast(k, 'tick', 'e11');
    await settle(k, client);
    expect(datas(client)).toEqual(['e11', 'end']);
  });

  test('explicit ids are replayable too: resuming after "b" gets c, d', async () => {
    const k = newKey('explicit');
    configureKey(k, { replay: { maxEvents: 10 } });
    for (const id of ['a', 'b', 'c', 'd']) broadcast(k, 'letter', id.toUpperCase(), { id });
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': 'b' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    broadcast(k, 'letter', 'E', { id: 'e' });
    await client.waitForEvents(3);
    expect(client.events.map((e) => [e.id, e.data])).toEqual([
      ['c', 'C'],
      ['d', 'D'],
      ['e', 'E'],
    ]);
  });

  test('two clients resuming from different ids at once each get their own tail, then the same live events', async () => {
    const k = keyWithHistory(10);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const early = await connect(srv.port, { headers: { 'Last-Event-ID': '2' } });
    const late = await connect(srv.port, { path: '/?lastEventId=8' });
    const streams = [(await srv.opened.next()).stream, (await srv.opened.next()).stream];
    expect(streams.map((s) => s.sinkKind)).toEqual([kind, kind]);
    expect(broadcast(k, 'tick', 'e11')).toBe(2);
    await settle(k, early);
    await late.waitFor((c) => c.events.some((e) => e.event === 'marker'), 'the marker');
    expect(ids(early)).toEqual(range(3, 12));
    expect(ids(late)).toEqual(range(9, 12));
  });
});
