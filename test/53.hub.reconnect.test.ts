// The replay guarantee under fire, on both sinks: while a timer broadcasts
// 1 000 events at a steady pace, clients drop and reconnect again and again
// with the id of the last event they saw; in the end each has every event
// exactly once, in order. Raw clients that drop themselves (header and query
// parameter alternating), and our EventSource, whose stream the server
// closes at random moments, reconnecting on its own with Last-Event-ID.
import { EventSource } from '../lib/node-client';
import { broadcast, configureKey, getConnectionCount, getMetrics } from '../lib/index';
import { int, rng } from './helpers/random';
import { SINKS, connect, eventually, within, type SSEClient } from './helpers/server';
import { every, newKey, sleep, startHub, useHubEnv } from './helpers/hub';
import type { EventSourceMessage } from '../lib/native/parser';
import type { SSEStream } from '../lib/stream/stream';

const sources: EventSource[] = [];
useHubEnv(async () => {
  for (const es of sources.splice(0)) es.close();
});

const TOTAL = 1000;
const RECONNECTS = 30;
const ALL_IDS = Array.from({ length: TOTAL }, (_, i) => String(i + 1));

/** Broadcasts e1..e<TOTAL> to `key`, one per timer tick (2 ms); `onTick` runs after each. Resolves when all are sent. */
function broadcaster(key: string, onTick?: (sent: number) => void): { done: Promise<void>; sent: () => number } {
  let sent = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const timer = every(2, () => {
    if (sent >= TOTAL) return;
    sent++;
    broadcast(key, 'tick', `e${sent}`);
    onTick?.(sent);
    if (sent >= TOTAL) {
      timer.stop();
      finish();
    }
  });
  return { done: within(done, `${TOTAL} broadcasts`, 60_000), sent: () => sent };
}

const lastId = (events: EventSourceMessage[]) => events[events.length - 1]?.id;

/**
 * One client: connects, waits for a random number of events (1..25), drops
 * the connection, reconnects with the id of the last event it saw (header on
 * odd attempts, query parameter on even ones, after a pause of 0..9 ms half
 * the time), RECONNECTS times; then stays until the last event.
 */
async function reconnectingClient(port: number, seed: number): Promise<{ seen: EventSourceMessage[]; reconnects: number; perConnection: number[] }> {
  const r = rng(seed);
  const seen: EventSourceMessage[] = [];
  const perConnection: number[] = [];
  let reconnects = 0;
  let client: SSEClient = await connect(port, { path: '/events' });
  const finished = (c: SSEClient) => lastId(c.events) === String(TOTAL);
  for (;;) {
    const want = 1 + int(r, 25);
    const last = reconnects === RECONNECTS;
    await client.waitFor(
      (c) => finished(c) || (!last && c.events.length >= want),
      last ? 'the last event' : `${want} events on connection ${reconnects}`,
      20_000,
    );
    client.destroy(); // nothing more is read from this socket
    seen.push(...client.events);
    perConnection.push(client.events.length);
    if (finished(client) || last) break;
    reconnects++;
    if (r() < 0.5) await sleep(int(r, 10));
    const id = lastId(seen);
    const spec =
      id === undefined
        ? { path: '/events' }
        : reconnects % 2 === 1
          ? { path: '/events', headers: { 'Last-Event-ID': id } }
          : { path: `/events?lastEventId=${encodeURIComponent(id)}` };
    client = await connect(port, spec);
  }
  return { seen, reconnects, perConnection };
}

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test(`three clients, each dropping and reconnecting ${RECONNECTS} times while ${TOTAL} events are broadcast, each get every event exactly once, in order`, async () => {
    const k = newKey('reconnect');
    configureKey(k, { replay: { maxEvents: TOTAL } });
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const seeds = kind === 'adopted' ? [11, 12, 13] : [21, 22, 23];
    const runs = seeds.map((seed) => reconnectingClient(srv.port, seed));
    // Every first connection is registered before the first broadcast.
    const first = await Promise.all(seeds.map(() => srv.opened.next()));
    expect(first.map((o) => o.stream.sinkKind)).toEqual([kind, kind, kind]);
    await eventually(() => getConnectionCount(k) === 3, 'three members');
    const replaysBefore = getMetrics().replays;
    const b = broadcaster(k);
    const results = await within(Promise.all(runs), 'the clients to finish', 60_000);
    await b.done;
    for (const { seen, reconnects, perConnection } of results) {
      expect(reconnects).toBe(RECONNECTS);
      expect(perConnection.length).toBe(RECONNECTS + 1);
      expect(seen.map((e) => e.id)).toEqual(ALL_IDS);
      expect(seen.map((e) => e.data)).toEqual(ALL_IDS.map((i) => `e${i}`));
      expect(seen.every((e) => e.event === 'tick')).toBe(true);
    }
    // The ring was used: reconnects missed events and got them replayed.
    expect(getMetrics().replays).toBeGreaterThan(replaysBefore);
    // Every dropped connection left the key: only the three last ones were members, and they are gone now.
    await eventually(() => getConnectionCount(k) === 0, `no member left (have ${getConnectionCount(k)})`);
  });

  test(`EventSource reconnects with Last-Event-ID after the server closes its stream at random moments; it ends with every one of ${TOTAL} events once, in order`, async () => {
    const k = newKey('es-reconnect');
    configureKey(k, { replay: { maxEvents: TOTAL } });
    const r = rng(kind === 'adopted' ? 31 : 32);
    let current: SSEStream | undefined;
    let sinceOpen = 0;
    let want = 1 + int(r, 20);
    let serverCloses = 0;
    const lastEventIds: (string | undefined)[] = [];
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true, retry: 1 }, ({ stream }) => {
      lastEventIds.push(stream.lastEventId);
      current = stream;
      sinceOpen = 0;
    });
    const es = new EventSource(`http://127.0.0.1:${srv.port}/events`);
    sources.push(es);
    const got: { id: string; data: string }[] = [];
    let errors = 0;
    es.addEventListener('tick', (e) => {
      const m = e as MessageEvent;
      got.push({ id: m.lastEventId, data: m.data as string });
    });
    es.onerror = () => errors++;
    const firstOpen = await srv.opened.next();
    expect(firstOpen.stream.sinkKind).toBe(kind);
    await eventually(() => getConnectionCount(k) === 1, 'the first member');
    const replaysBefore = getMetrics().replays;
    const b = broadcaster(k, (sent) => {
      sinceOpen++;
      // Never after the last event: each close is followed by a reconnect the client needs.
      if (current && !current.closed && sinceOpen >= want && serverCloses < RECONNECTS && sent < TOTAL) {
        current.close();
        current = undefined;
        serverCloses++;
        want = 1 + int(r, 20);
      }
    });
    await b.done;
    await within(
      new Promise<void>((resolve) => {
        const check = () => (got.length >= TOTAL || got[got.length - 1]?.id === String(TOTAL) ? resolve() : setTimeout(check, 5));
        check();
      }),
      `the EventSource to reach event ${TOTAL} (has ${got.length})`,
      20_000,
    );
    expect(got.map((m) => m.id)).toEqual(ALL_IDS);
    expect(got.map((m) => m.data)).toEqual(ALL_IDS.map((i) => `e${i}`));
    expect(serverCloses).toBeGreaterThan(0);
    // One reconnect per server close, each with the id of the last event before it.
    expect(lastEventIds.length).toBe(serverCloses + 1);
    expect(lastEventIds[0]).toBeUndefined();
    for (const id of lastEventIds.slice(1)) expect(id).toMatch(/^\d+$/);
    expect(es.lastEventId).toBe(String(TOTAL));
    expect(errors).toBe(serverCloses);
    expect(getMetrics().replays).toBeGreaterThan(replaysBefore);
  });
});
