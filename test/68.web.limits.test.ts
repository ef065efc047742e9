// The connection limits hold for web streams too (issue 11): past
// maxConnections or maxConnectionsPerKey the stream is closed with
// closeReason.code 'SSE_LIMIT' and sseResponse() answers 503 with
// Retry-After and an empty body; a slot freed lets the next one in.
import { createSSEStream, getMetrics, setLimits, sseResponse } from '../lib/index';
import { useTestEnv } from './helpers/server';

useTestEnv();
afterEach(() => setLimits({}));

test('maxConnectionsPerKey: the second web stream of a key is refused with 503; another key is accepted', async () => {
  setLimits({ maxConnectionsPerKey: 1, retryAfterSeconds: 9 });
  const refusedBefore = getMetrics().refused;
  const a = createSSEStream({ key: 'web-limit-a', heartbeatMs: 0 });
  const b = createSSEStream({ key: 'web-limit-a', heartbeatMs: 0 });
  expect(a.sse.closed).toBe(false);
  expect(b.sse.closed).toBe(true);
  expect((b.sse.closeReason as { code?: string }).code).toBe('SSE_LIMIT');
  expect(b.send({ data: 'x' })).toBe(false);
  const res = sseResponse(b.stream);
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('9');
  expect(await res.text()).toBe('');
  expect(getMetrics().refused).toBe(refusedBefore + 1);
  const other = createSSEStream({ key: 'web-limit-b', heartbeatMs: 0 });
  expect(other.sse.closed).toBe(false);
  expect(sseResponse(other.stream).status).toBe(200);
  await a.stream.cancel();
  const c = createSSEStream({ key: 'web-limit-a', heartbeatMs: 0 });
  expect(c.sse.closed).toBe(false);
  await c.stream.cancel();
  await other.stream.cancel();
});

test('maxConnections counts web streams with the others', async () => {
  const open = getMetrics().connections;
  setLimits({ maxConnections: open + 1 });
  const a = createSSEStream({ heartbeatMs: 0 });
  const b = createSSEStream({ heartbeatMs: 0 });
  expect(a.sse.closed).toBe(false);
  expect(b.sse.closed).toBe(true);
  expect(sseResponse(b.stream).status).toBe(503);
  await a.stream.cancel();
});
