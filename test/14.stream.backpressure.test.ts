// Backpressure with a client that stops reading (a 4 KiB receive buffer, see
// helpers/slow_client.py): send() returns false, and once more than
// maxBuffered waits behind a write that made no progress the policy applies:
// 'drop' (events dropped, 'drain' once the client reads again, later events
// arrive) or 'close'. The queue stays bounded: maxBuffered waiting, plus one
// loop turn's sends, plus the write in flight when it stalled (itself at
// most that much).
import { once } from 'node:events';
import { native } from '../lib/native/binding';
import type { SSEStream } from '../lib/stream/stream';
import { killSlowClients, slowClient } from './helpers/slow-client';
import { SINKS, connect, startSSE, turn, within, useTestEnv } from './helpers/server';

const HWM = 16 * 1024;
const MAX = 64 * 1024;
const PAYLOAD = 'p'.repeat(1000);
const FRAME = `id: 000000\ndata: ${PAYLOAD}\n\n`.length; // ids are padded to 6 digits
// maxBuffered waiting + a turn's sends (under HWM), and the write in flight.
const BOUND = 2 * (MAX + HWM);
// Enough to fill any loopback send buffer; reaching it without backpressure fails the test.
const SEND_BOUND = 40_000;

useTestEnv(killSlowClients);

const pad = (i: number) => String(i).padStart(6, '0');

interface Flood {
  sent: number;
  firstFalseAt: number;
  falses: number;
  maxBuffered: number;
}

/**
 * Sends 1 KiB events, a batch under the high-water mark per loop turn (so
 * the core flushes between batches and only the client can hold bytes
 * back), until `stop` says so. Tracks the largest bufferedAmount seen.
 */
async function flood(stream: SSEStream, stop: (f: Flood) => boolean, payload = PAYLOAD, hwm = HWM): Promise<Flood> {
  const f: Flood = { sent: 0, firstFalseAt: -1, falses: 0, maxBuffered: 0 };
  const frame = `id: 000000\ndata: ${payload}\n\n`.length;
  const perTurn = Math.max(1, Math.floor(hwm / frame / 2));
  const bound = (SEND_BOUND * FRAME) / frame;
  while (!stop(f) && !stream.closed) {
    if (f.sent >= bound) throw new Error(`no backpressure after ${f.sent} events: ${JSON.stringify(f)}`);
    for (let k = 0; k < perTurn && !stream.closed; k++) {
      const ok = stream.send({ id: pad(f.sent), data: payload });
      f.sent++;
      f.maxBuffered = Math.max(f.maxBuffered, stream.bufferedAmount);
      if (!ok) {
        f.falses++;
        if (f.firstFalseAt < 0) f.firstFalseAt = f.sent - 1;
      }
    }
    await turn();
  }
  return f;
}

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test("'drop': send() returns false, the queue stays under maxBuffered, 'drain' after the client reads, later events arrive", async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, highWaterMark: HWM, maxBuffered: MAX, onSlowConsumer: 'drop' });
    const client = slowClient(srv.port, '/drop');
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.ready;
    const dropsBefore = native.stats().drops;
    // Past the first false, keep sending: with the client stalled most of these are dropped.
    let stopAt = -1;
    const f = await flood(stream, (x) => {
      if (x.firstFalseAt >= 0 && stopAt < 0) stopAt = x.sent + 200;
      return stopAt >= 0 && x.sent >= stopAt;
    });
    expect(stream.closed).toBe(false);
    expect(f.firstFalseAt).toBeGreaterThanOrEqual(0);
    expect(f.maxBuffered).toBeLessThanOrEqual(BOUND);
    expect(stream.bufferedAmount).toBeGreaterThan(HWM);
    if (kind === 'adopted') expect(native.stats().drops).toBeGreaterThan(dropsBefore);

    const drained = within(once(stream, 'drain'), "'drain' after the client resumed");
    const result = client.resume();
    await drained;
    expect(stream.bufferedAmount).toBeLessThanOrEqual(HWM);
    for (let i = 0; i < 5; i++) expect(stream.send({ id: `after-${i}`, data: 'after' })).toBe(true);
    stream.close();
    const { reader, timeout } = await result;
    expect(timeout).toBe(false);
    const ids = reader.events.map((e) => e.id!);
    expect(ids.slice(-5)).toEqual(['after-0', 'after-1', 'after-2', 'after-3', 'after-4']);
    // What arrived before is in order, with a gap where events were dropped.
    const numeric = ids.slice(0, -5).map(Number);
    expect(numeric.length).toBeGreaterThan(0);
    expect(numeric.length).toBeLessThan(f.sent);
    for (let i = 1; i < numeric.length; i++) expect(numeric[i]).toBeGreaterThan(numeric[i - 1]);
    expect(numeric.slice(0, f.firstFalseAt)).toEqual(Array.from({ length: Math.min(f.firstFalseAt, numeric.length) }, (_, i) => i));
  });

  test("'close': past maxBuffered the stream closes with a closeReason; the client gets what was sent in order, then the end", async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, highWaterMark: HWM, maxBuffered: MAX, onSlowConsumer: 'close' });
    const client = slowClient(srv.port, '/close');
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.ready;
    let closes = 0;
    stream.on('close', () => closes++);
    const slowClosesBefore = native.stats().slowConsumerCloses;
    const f = await flood(stream, () => false);
    expect(stream.closed).toBe(true);
    expect(f.firstFalseAt).toBeGreaterThanOrEqual(0);
    expect(f.maxBuffered).toBeLessThanOrEqual(BOUND);
    expect(stream.closeReason).toBeInstanceOf(Error);
    expect(stream.signal.aborted).toBe(true);
    expect(stream.send({ data: 'closed' })).toBe(false);
    if (kind === 'adopted') expect(native.stats().slowConsumerCloses).toBe(slowClosesBefore + 1);
    const { reader, timeout, eof } = await client.resume();
    expect(timeout).toBe(false);
    expect(eof).toBe(true);
    const ids = reader.events.map((e) => Number(e.id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i));
    expect(ids.length).toBeLessThan(f.sent);
    expect(closes).toBe(1);
  });

  test("'drain' also comes with a highWaterMark below Node's own socket buffer (1 KiB)", async () => {
    const hwm = 1024;
    const payload = 'q'.repeat(100);
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, highWaterMark: hwm, maxBuffered: MAX, onSlowConsumer: 'drop' });
    const client = slowClient(srv.port, '/small-hwm');
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.ready;
    const f = await flood(stream, (x) => x.firstFalseAt >= 0, payload, hwm);
    expect(f.maxBuffered).toBeGreaterThan(hwm);
    const drained = within(once(stream, 'drain'), "'drain' after the client resumed");
    const result = client.resume();
    await drained;
    expect(stream.bufferedAmount).toBeLessThanOrEqual(hwm);
    stream.send({ id: 'after', data: 'after' });
    stream.close();
    const { reader } = await result;
    expect(reader.events[reader.events.length - 1].id).toBe('after');
  });

  test("'drop': one event larger than maxBuffered reaches a reading client (judged after the write), 'drain' follows, the next event arrives", async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, highWaterMark: 1024, maxBuffered: 4096, onSlowConsumer: 'drop' });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForHead();
    const drained = within(once(stream, 'drain'), "'drain' after an oversized event");
    expect(stream.send({ id: 'big', data: 'x'.repeat(10_000) })).toBe(false);
    await drained;
    expect(stream.send({ id: 'small', data: 'ok' })).toBe(true);
    await client.waitForEvents(2);
    expect(client.events.map((e) => e.id)).toEqual(['big', 'small']);
    expect(client.events[0].data).toBe('x'.repeat(10_000));
  });

  test("a stalled client that goes away (reset) closes the stream once with a closeReason", async () => {
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, highWaterMark: HWM, maxBuffered: MAX, onSlowConsumer: 'drop' });
    const client = slowClient(srv.port, '/gone');
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.ready;
    let closes = 0;
    stream.on('close', () => closes++);
    const f = await flood(stream, (x) => x.firstFalseAt >= 0);
    expect(stream.bufferedAmount).toBeGreaterThan(0);
    const closed = within(once(stream, 'close'), "the stream's 'close' after the client was killed");
    await client.kill();
    let gaveUp = false;
    closed.catch(() => (gaveUp = true));
    // Keep sending, as an app would: whichever notices first (the read side
    // or a failed write) must close the stream.
    while (!stream.closed && !gaveUp) {
      stream.send({ data: PAYLOAD });
      f.sent++;
      await turn();
    }
    await closed;
    expect(stream.signal.aborted).toBe(true);
    expect(stream.closeReason).toBeInstanceOf(Error);
    expect(stream.bufferedAmount).toBe(0);
    expect(closes).toBe(1);
  });
});
