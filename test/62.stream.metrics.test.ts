// Per-stream figures (events, bytes, time to first event, duration, why it
// ended) and the histograms in getMetrics()/metricsText(), kept by the core
// for every sink.
import { once } from 'node:events';
import { getMetrics, metricsText } from '../lib/index';
import { SINKS, connect, eventually, startSSE, turn, useTestEnv, within } from './helpers/server';

useTestEnv();

function promValue(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  if (found === undefined) throw new Error(`no ${line} in metricsText()`);
  return Number(found.slice(line.length + 1));
}

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('stats: events, bytes, time to first event; the client leaving ends it as SSE_CLIENT_GONE and feeds the histograms', async () => {
    const before = getMetrics();
    const ttfeCount = promValue(metricsText(), 'sse_time_to_first_event_seconds_count');
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect(stream.sinkKind).toBe(kind);
    await turn();
    expect(stream.stats.events).toBe(0);
    expect(stream.stats.timeToFirstEventMs).toBeUndefined();
    expect(stream.stats.endedBy).toBeUndefined();
    stream.send({ data: 'one' });
    stream.send({ data: 'two' });
    await client.waitForEvents(2);
    await eventually(() => stream.stats.bytes >= 'data: one\n\ndata: two\n\n'.length, 'the bytes written');
    expect(stream.stats.events).toBe(2);
    expect(stream.stats.timeToFirstEventMs).toBeGreaterThanOrEqual(0);
    expect(promValue(metricsText(), 'sse_time_to_first_event_seconds_count')).toBe(ttfeCount + 1);
    client.destroy();
    await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.stats.endedBy).toBe('SSE_CLIENT_GONE');
    expect(stream.stats.events).toBe(2);
    const after = getMetrics();
    expect(after.closes.clientGone).toBe(before.closes.clientGone + 1);
    expect(after.streamDuration.count).toBe(before.streamDuration.count + 1);
    const text = metricsText();
    expect(text).toMatch(/# TYPE sse_stream_duration_seconds histogram/);
    expect(promValue(text, 'sse_stream_duration_seconds_bucket{le="+Inf"}')).toBe(after.streamDuration.count);
    expect(promValue(text, 'sse_stream_closes_total{reason="clientGone"}')).toBe(after.closes.clientGone);
  });

  test("close() ends a stream as 'closed' and counts it under server", async () => {
    const before = getMetrics().closes.server;
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    const client = await connect(srv.port);
    const { stream } = await srv.opened.next();
    stream.send({ data: 'x' });
    stream.close();
    await client.waitForEnd();
    if (!stream.closed) await within(once(stream, 'close'), "the stream's 'close'");
    expect(stream.stats.endedBy).toBe('closed');
    expect(getMetrics().closes.server).toBe(before + 1);
  });
});
