// One slow member does not hold the others back. A client that stops
// reading (a 4 KiB receive buffer, helpers/slow_client.py) is a member of a
// key with onSlowConsumer 'drop' or 'close' and small limits; two fast
// members (one adopted, one on the response sink) are in the same key. While
// broadcasts pile up for the slow one, the fast ones receive every event;
// past its limit (maxBuffered, charged a share of each shared frame) the
// slow one has events dropped (and counted), or is closed
// (counted) and leaves the key.
import { broadcast, getConnectionCount, getMetrics } from '../lib/index';
import { slowClient } from './helpers/slow-client';
import { SINKS, connect, eventually, onNative, turn } from './helpers/server';
import { newKey, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

const HWM = 16 * 1024;
const MAX = 64 * 1024;
const PAYLOAD = 'p'.repeat(1000);
const PER_TURN = 8; // about 8 KiB per loop turn, under the fast members' limits
// Reaching this without the slow member hitting its limit fails the test.
const BOUND = 40_000;

describe.each(SINKS)('slow member on the %s sink', (kind, sinkOpts) => {
  test.each(['drop', 'close'] as const)("onSlowConsumer '%s': the fast members get every event while the slow one is stalled", async (policy) => {
    const k = newKey(`slow-${policy}`);
    const srv = await startHub((req) =>
      req.url === '/slow'
        ? { ...sinkOpts, heartbeatMs: 0, key: k, highWaterMark: HWM, maxBuffered: MAX, onSlowConsumer: policy }
        : { adopt: req.url === '/fast-adopted', heartbeatMs: 0, key: k, highWaterMark: 1 << 20, maxBuffered: 256 << 20 },
    );
    const slow = slowClient(srv.port, '/slow');
    const { stream: slowStream } = await srv.opened.next();
    expect(slowStream.sinkKind).toBe(kind);
    await slow.ready;
    const fastA = await connect(srv.port, { path: '/fast-adopted' });
    const { stream: fastAStream } = await srv.opened.next();
    const fastR = await connect(srv.port, { path: '/fast-response' });
    const { stream: fastRStream } = await srv.opened.next();
    expect([fastAStream.sinkKind, fastRStream.sinkKind]).toEqual([onNative ? 'adopted' : 'response', 'response']);
    await fastA.waitForHead();
    await fastR.waitForHead();
    expect(getConnectionCount(k)).toBe(3);
    const before = getMetrics();

    // Broadcast until the slow member is past its limit (closed, or its
    // queue near maxBuffered), then 200 more.
    let sent = 0;
    let stopAt = -1;
    while (stopAt < 0 || sent < stopAt) {
      if (sent >= BOUND) throw new Error(`the slow member never reached its limit after ${sent} events (buffered ${slowStream.bufferedAmount})`);
      for (let i = 0; i < PER_TURN; i++) {
        sent++;
        broadcast(k, 'e', PAYLOAD, { id: String(sent) });
      }
      await turn();
      const overLimit = policy === 'close' ? slowStream.closed : slowStream.bufferedAmount > MAX - 2 * PAYLOAD.length;
      if (overLimit && stopAt < 0) stopAt = sent + 200;
    }
    const all = Array.from({ length: sent }, (_, i) => String(i + 1));

    // The fast members get everything, with the slow one still stalled.
    await fastA.waitForEvents(sent);
    await fastR.waitForEvents(sent);
    expect(fastA.events.map((e) => e.id)).toEqual(all);
    expect(fastR.events.map((e) => e.id)).toEqual(all);
    expect(fastAStream.closed || fastRStream.closed).toBe(false);
    // Each broadcast frame is shared by the 3 members, so the slow one is
    // charged a third of it: up to 3 x maxBuffered waits before it is
    // judged, plus one turn's events and the write in flight.
    expect(slowStream.bufferedAmount).toBeLessThanOrEqual(4 * MAX);

    const after = getMetrics();
    expect(after.broadcasts - before.broadcasts).toBe(sent);
    if (policy === 'close') {
      expect(slowStream.closed).toBe(true);
      expect(slowStream.closeReason).toBeInstanceOf(Error);
      expect(after.slowConsumerCloses).toBeGreaterThan(before.slowConsumerCloses);
      // The closed member left the key: no stale member.
      expect(getConnectionCount(k)).toBe(2);
      expect(broadcast(k, 'e', 'last', { id: 'last' })).toBe(2);
      const { reader, timeout, eof } = await slow.resume();
      expect(timeout).toBe(false);
      expect(eof).toBe(true);
      const ids = reader.events.map((e) => Number(e.id));
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1)); // a prefix, no gap
      expect(ids.length).toBeLessThan(sent);
    } else {
      expect(slowStream.closed).toBe(false);
      expect(after.drops).toBeGreaterThan(before.drops);
      expect(getConnectionCount(k)).toBe(3);
      const result = slow.resume();
      // Once the slow member has drained what it holds, events reach it again.
      await eventually(() => slowStream.bufferedAmount < HWM, 'the slow member to drain after it resumed reading');
      expect(slowStream.closed).toBe(false);
      for (let i = 0; i < 5; i++) expect(broadcast(k, 'e', 'after', { id: `after-${i}` })).toBe(3);
      await fastA.waitForEvents(sent + 5);
      slowStream.close();
      const { reader, timeout } = await result;
      expect(timeout).toBe(false);
      const ids = reader.events.map((e) => e.id!);
      expect(ids.slice(-5)).toEqual(['after-0', 'after-1', 'after-2', 'after-3', 'after-4']);
      const numeric = ids.slice(0, -5).map(Number);
      expect(numeric.length).toBeGreaterThan(0);
      expect(numeric.length).toBeLessThan(sent); // some were dropped
      for (let i = 1; i < numeric.length; i++) expect(numeric[i]).toBeGreaterThan(numeric[i - 1]);
    }
  });
});
