// Request edges found by adversarial use (issue 11, 13): an empty or
// oversized Last-Event-ID means "none"; a Connection: close request is told
// so on both sinks; header values Node refuses are refused on both paths
// before anything counts; unknown options and a second stream on one
// response are errors with codes that name the fix.
import { broadcast, configureKey, createSSEStream, getMetrics, SSEError } from '../lib/index';
import { SINKS, connect, startHttp, useTestEnv, within } from './helpers/server';
import { newKey, startHub } from './helpers/hub';

useTestEnv();

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('an empty Last-Event-ID (header or query) means none: a resume replays nothing and sends no sse-gap', async () => {
    const k = newKey('empty-id');
    configureKey(k, { replay: { maxEvents: 10 } });
    broadcast(k, 'old', 1);
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const a = await connect(srv.port, { headers: { 'Last-Event-ID': '' } });
    const sa = (await srv.opened.next()).stream;
    const b = await connect(srv.port, { path: '/?lastEventId=' });
    const sb = (await srv.opened.next()).stream;
    expect([sa.sinkKind, sb.sinkKind]).toEqual([kind, kind]);
    expect(sa.lastEventId).toBeUndefined();
    expect(sb.lastEventId).toBeUndefined();
    const gaps = getMetrics().replayGaps;
    broadcast(k, 'live', 2);
    await a.waitForEvents(1);
    await b.waitForEvents(1);
    expect(a.events.map((e) => e.event)).toEqual(['live']);
    expect(b.events.map((e) => e.event)).toEqual(['live']);
    expect(getMetrics().replayGaps).toBe(gaps);
    configureKey(k, { replay: null });
  });

  test('a Last-Event-ID over 1024 characters is ignored (no sse-gap echoing it back)', async () => {
    const k = newKey('long-id');
    configureKey(k, { replay: { maxEvents: 10 } });
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0, key: k, resume: true });
    const c = await connect(srv.port, { headers: { 'Last-Event-ID': 'x'.repeat(5000) } });
    const s = (await srv.opened.next()).stream;
    expect(s.lastEventId).toBeUndefined();
    broadcast(k, 'live', 1);
    await c.waitForEvents(1);
    expect(c.events.map((e) => e.event)).toEqual(['live']);
    configureKey(k, { replay: null });
  });

  test('a Connection: close request is answered Connection: close', async () => {
    const srv = await startHub({ ...sinkOpts, heartbeatMs: 0 });
    const c = await connect(srv.port, { headers: { Connection: 'close' } });
    const s = (await srv.opened.next()).stream;
    expect(s.sinkKind).toBe(kind);
    const head = await c.waitForHead();
    expect(head.headers.get('connection')).toEqual(['close']);
    s.close();
  });

  test('a header value Node refuses is refused before the stream counts, on both sinks alike', async () => {
    const errors: unknown[] = [];
    const before = getMetrics().connections;
    const srv = await startHttp((req, res) => {
      try {
        createSSEStream(req, res, { ...sinkOpts, headers: { 'X-Name': 'caf\u00e9 \u2026' } });
      } catch (err) {
        errors.push(err);
        res.statusCode = 500;
        res.end();
      }
    });
    const c = await connect(srv.port);
    await c.waitForHead();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as { code?: string }).code).toBe('ERR_INVALID_CHAR');
    expect(getMetrics().connections).toBe(before);
  });
});

test('unknown options name the nearest known one; a second stream on one response is SSE_ALREADY_STREAMING', async () => {
  expect(() => createSSEStream({ heartbeat: 1000 } as never)).toThrow(/unknown option `heartbeat` \(did you mean `heartbeatMs`\?\)/);
  let second: unknown;
  const srv = await startHttp((req, res) => {
    const first = createSSEStream(req, res, { heartbeatMs: 0 });
    try {
      createSSEStream(req, res);
    } catch (err) {
      second = err;
    }
    first.send({ data: 'first still works' });
  });
  const c = await connect(srv.port);
  await c.waitForEvents(1);
  expect(second).toBeInstanceOf(SSEError);
  expect((second as SSEError).code).toBe('SSE_ALREADY_STREAMING');
  await within(Promise.resolve(), 'done');
});
