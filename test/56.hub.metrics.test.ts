// Metrics, on both sinks: getMetrics() counts connections, members per key,
// broadcasts, events and bytes sent, replays and heartbeats as they happen;
// metricsText() is valid Prometheus text exposition (HELP, TYPE, samples,
// escaped label values), every name prefixed `sse_`, with a per-key gauge
// sse_key_connections{key="..."} that follows the members.
import { broadcast, configureKey, encodeEvent, getConnectionCount, getMetrics, metricsText } from '../lib/index';
import { SINKS, connect, eventually } from './helpers/server';
import { closedStream, newKey, parsePrometheus, startHub, useHubEnv, type PromText } from './helpers/hub';

useHubEnv();

const COUNTERS = ['eventsSent', 'bytesSent', 'broadcasts', 'drops', 'slowConsumerCloses', 'heartbeats', 'replays', 'refused'] as const;

function keyGauge(p: PromText, key: string): number | undefined {
  return p.samples.find((s) => s.name === 'sse_key_connections' && s.labels.key === key)?.value;
}

describe('the shape', () => {
  test('getMetrics() has every field, numbers, non-negative; keys is a plain record', () => {
    const m = getMetrics();
    expect(typeof m.connections).toBe('number');
    expect(m.connections).toBeGreaterThanOrEqual(0);
    for (const c of COUNTERS) {
      expect([c, typeof m[c]]).toEqual([c, 'number']);
      expect(Number.isInteger(m[c]) && m[c] >= 0).toBe(true);
    }
    expect(typeof m.keys).toBe('object');
    for (const v of Object.values(m.keys)) expect(typeof v).toBe('number');
  });

  test('metricsText() parses as Prometheus text, every metric named sse_*, each family with HELP and TYPE', () => {
    const text = metricsText();
    const p = parsePrometheus(text);
    expect(p.samples.length).toBeGreaterThan(0);
    for (const s of p.samples) expect(s.name).toMatch(/^sse_/);
    for (const name of p.types.keys()) {
      expect(name).toMatch(/^sse_/);
      expect(p.helps.has(name)).toBe(true);
    }
    expect(p.types.get('sse_key_connections')).toBe('gauge');
    // Counters are typed as counters, and there is one for each counter of getMetrics().
    const counters = [...p.types.entries()].filter(([, t]) => t === 'counter');
    expect(counters.length).toBeGreaterThanOrEqual(COUNTERS.length);
  });
});

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('connections, per-key members, broadcasts, eventsSent and bytesSent move as expected', async () => {
    const [k, other] = [newKey('metrics'), newKey('other')];
    const srv = await startHub((req) => ({ ...sinkOpts, heartbeatMs: 0, key: req.url === '/both' ? [k, other] : k }));
    const clients = [];
    const streams = [];
    for (const path of ['/', '/', '/both']) {
      clients.push(await connect(srv.port, { path }));
      streams.push((await srv.opened.next()).stream);
    }
    expect(streams.map((s) => s.sinkKind)).toEqual([kind, kind, kind]);
    await Promise.all(clients.map((c) => c.waitForHead()));
    const m0 = getMetrics();
    expect(m0.connections).toBe(3);
    expect(m0.keys[k]).toBe(3);
    expect(m0.keys[other]).toBe(1);

    const frames: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      expect(broadcast(k, 'tick', { i, pad: 'x'.repeat(100) })).toBe(3);
      frames.push(encodeEvent({ event: 'tick', data: { i, pad: 'x'.repeat(100) } }));
    }
    await Promise.all(clients.map((c) => c.waitForEvents(5)));
    const m1 = getMetrics();
    expect(m1.broadcasts - m0.broadcasts).toBe(5);
    expect(m1.eventsSent - m0.eventsSent).toBeGreaterThanOrEqual(15);
    const frameBytes = frames.reduce((n, f) => n + f.length, 0);
    await eventually(() => getMetrics().bytesSent - m0.bytesSent >= 3 * frameBytes, `bytesSent to grow by ${3 * frameBytes}`);
    expect(m1.bytesSent).toBeGreaterThan(0);
    // A broadcast to a key with no member counts, but sends nothing.
    const m2 = getMetrics();
    expect(broadcast(newKey('empty'), 'x', 1)).toBe(0);
    const m3 = getMetrics();
    expect(m3.eventsSent).toBe(m2.eventsSent);

    clients[2].destroy();
    await closedStream(streams[2]);
    const m4 = getMetrics();
    expect(m4.connections).toBe(2);
    expect(m4.keys[k]).toBe(2);
    expect(m4.keys[other] ?? 0).toBe(0);
    expect(getConnectionCount(k)).toBe(2);
  });

  test('replays: a resume that replays events is counted', async () => {
    const k = newKey('replays');
    configureKey(k, { replay: { maxEvents: 50 } });
    for (let i = 0; i < 6; i++) broadcast(k, 'e', i);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const before = getMetrics();
    const client = await connect(srv.port, { headers: { 'Last-Event-ID': '2' } });
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitForEvents(4);
    const after = getMetrics();
    expect(after.replays).toBeGreaterThan(before.replays);
    expect(client.events.map((e) => e.id)).toEqual(['3', '4', '5', '6']);
  });

  test('heartbeats are counted', async () => {
    const k = newKey('heartbeats');
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 40, key: k });
    const before = getMetrics().heartbeats;
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await client.waitFor((c) => c.comments.length >= 2, 'two heartbeats');
    await eventually(() => getMetrics().heartbeats - before >= 2, 'the heartbeats to be counted');
  });

  test('metricsText(): sse_key_connections{key="..."} follows the members; label values are escaped', async () => {
    const weird = newKey('we"ird\\key\nline');
    const plain = newKey('plain');
    const srv = await startHub((req) => ({ ...sinkOpts, heartbeatMs: 0, key: req.url === '/weird' ? [weird, plain] : plain }));
    const a = await connect(srv.port, { path: '/weird' });
    const sa = (await srv.opened.next()).stream;
    const b = await connect(srv.port, { path: '/plain' });
    const sb = (await srv.opened.next()).stream;
    expect([sa.sinkKind, sb.sinkKind]).toEqual([kind, kind]);
    broadcast(plain, 'x', 1);
    await a.waitForEvents(1);
    await b.waitForEvents(1);

    let p = parsePrometheus(metricsText());
    expect(keyGauge(p, weird)).toBe(1);
    expect(keyGauge(p, plain)).toBe(2);
    const m = getMetrics();
    // The gauges agree with getMetrics().keys.
    for (const s of p.samples.filter((x) => x.name === 'sse_key_connections')) {
      expect([s.labels.key, s.value]).toEqual([s.labels.key, m.keys[s.labels.key]]);
    }

    a.destroy();
    await closedStream(sa);
    p = parsePrometheus(metricsText());
    expect(keyGauge(p, weird) ?? 0).toBe(0);
    expect(keyGauge(p, plain)).toBe(1);
  });
});
