// Limits, on both sinks: past maxConnections, maxConnectionsPerKey (streams
// joining keys with the `key` option) or maxConnectionsPerAddress (clients
// bound to 127.0.0.2 / 127.0.0.3), createSSEStream answers 503 with
// Retry-After before adopting anything and returns a stream already closed
// with closeReason.code 'SSE_LIMIT'; metrics count the refusals; a closed
// stream frees its slot; setLimits({}) lifts every limit.
import type { SSEStream } from '../lib/stream/stream';
import { getConnectionCount, getMetrics, registerConnection, setLimits } from '../lib/index';
import { SINKS, connect, type SSEClient } from './helpers/server';
import { closedStream, connectFrom, newKey, startHub, useHubEnv, type HubServer, type HubStreamOptions } from './helpers/hub';

useHubEnv();

interface Attempt {
  client: SSEClient;
  stream: SSEStream;
  /** stream.closed right when createSSEStream returned. */
  closedAtReturn: boolean;
}

interface LimitServer extends HubServer {
  attempt(path?: string, from?: string): Promise<Attempt>;
}

async function startLimited(options: (req: { url?: string }) => HubStreamOptions): Promise<LimitServer> {
  const closedAtReturn = new Map<SSEStream, boolean>();
  const srv = await startHub(options, ({ stream }) => closedAtReturn.set(stream, stream.closed));
  return {
    ...srv,
    async attempt(path = '/', from?: string) {
      const client = from ? await connectFrom(srv.port, from, { path }) : await connect(srv.port, { path });
      const { stream } = await srv.opened.next();
      await client.waitForHead();
      return { client, stream, closedAtReturn: closedAtReturn.get(stream)! };
    },
  };
}

function expectAccepted(a: Attempt, kind: string): void {
  expect(a.client.head!.statusCode).toBe(200);
  expect(a.closedAtReturn).toBe(false);
  expect(a.stream.closed).toBe(false);
  expect(a.stream.sinkKind).toBe(kind);
}

function expectRefused(a: Attempt, retryAfter: string): void {
  expect(a.client.head!.statusCode).toBe(503);
  expect(a.client.reader.header('retry-after')).toBe(retryAfter);
  expect(a.closedAtReturn).toBe(true);
  expect(a.stream.closed).toBe(true);
  expect(a.stream.sinkKind).not.toBe('adopted');
  expect(a.stream.closeReason).toBeInstanceOf(Error);
  expect((a.stream.closeReason as NodeJS.ErrnoException).code).toBe('SSE_LIMIT');
  expect(a.stream.signal.aborted).toBe(true);
  expect(a.stream.send({ data: 'refused' })).toBe(false);
}

describe.each(SINKS)('%s sink', (kind, sinkOpts) => {
  test('maxConnections: the third is refused with 503 and Retry-After: 7, counted; a closed stream frees its slot', async () => {
    const k = newKey('max');
    setLimits({ maxConnections: 2, retryAfterSeconds: 7 });
    const srv = await startLimited(() => ({ ...sinkOpts, heartbeatMs: 0, key: k }));
    const before = getMetrics().refused;
    const first = await srv.attempt();
    const second = await srv.attempt();
    expectAccepted(first, kind);
    expectAccepted(second, kind);
    const third = await srv.attempt();
    expectRefused(third, '7');
    expect(getMetrics().refused).toBe(before + 1);
    expect(getConnectionCount(k)).toBe(2);
    expect(getConnectionCount()).toBe(2);
    expect(registerConnection(k, third.stream)).toBe(false);
    expect(getConnectionCount(k)).toBe(2);

    first.client.destroy();
    await closedStream(first.stream, "the first stream's 'close' after its client left");
    const fourth = await srv.attempt();
    expectAccepted(fourth, kind);
    expect(getConnectionCount(k)).toBe(2);
    const fifth = await srv.attempt();
    expectRefused(fifth, '7');
    expect(getMetrics().refused).toBe(before + 2);

    second.stream.close(); // the server closing a stream frees a slot too
    await closedStream(second.stream);
    expectAccepted(await srv.attempt(), kind);
  });

  test('Retry-After is 5 seconds unless set', async () => {
    setLimits({ maxConnections: 1 });
    const srv = await startLimited(() => ({ ...sinkOpts, heartbeatMs: 0, key: newKey('default-retry') }));
    expectAccepted(await srv.attempt(), kind);
    expectRefused(await srv.attempt(), '5');
  });

  test('maxConnectionsPerKey: a full key refuses, another key accepts, a stream asking for a full key among others is refused', async () => {
    const [a, b] = [newKey('a'), newKey('b')];
    setLimits({ maxConnectionsPerKey: 1, retryAfterSeconds: 3 });
    const srv = await startLimited((req) => ({
      ...sinkOpts,
      heartbeatMs: 0,
      key: req.url === '/a' ? a : req.url === '/b' ? b : [b, a],
    }));
    const before = getMetrics().refused;
    const inA = await srv.attempt('/a');
    expectAccepted(inA, kind);
    expectRefused(await srv.attempt('/a'), '3');
    const inB = await srv.attempt('/b');
    expectAccepted(inB, kind);
    expectRefused(await srv.attempt('/ba'), '3');
    expect([getConnectionCount(a), getConnectionCount(b)]).toEqual([1, 1]);
    expect(getMetrics().refused).toBe(before + 2);

    inA.stream.close();
    await closedStream(inA.stream);
    await inA.client.waitForEnd();
    expect(getConnectionCount(a)).toBe(0);
    expectAccepted(await srv.attempt('/a'), kind);
    expect(getConnectionCount(a)).toBe(1);
  });

  test('maxConnectionsPerAddress: two from 127.0.0.2, the third refused; 127.0.0.3 still accepted; leaving frees a slot', async () => {
    const k = newKey('addr');
    setLimits({ maxConnectionsPerAddress: 2 });
    const srv = await startLimited(() => ({ ...sinkOpts, heartbeatMs: 0, key: k }));
    const before = getMetrics().refused;
    const x1 = await srv.attempt('/', '127.0.0.2');
    const x2 = await srv.attempt('/', '127.0.0.2');
    expectAccepted(x1, kind);
    expectAccepted(x2, kind);
    expectRefused(await srv.attempt('/', '127.0.0.2'), '5');
    const y1 = await srv.attempt('/', '127.0.0.3');
    expectAccepted(y1, kind);
    expectAccepted(await srv.attempt('/', '127.0.0.3'), kind);
    expectRefused(await srv.attempt('/', '127.0.0.3'), '5');
    expect(getMetrics().refused).toBe(before + 2);
    expect(getConnectionCount(k)).toBe(4);

    x1.client.destroy();
    await closedStream(x1.stream);
    expectAccepted(await srv.attempt('/', '127.0.0.2'), kind);
    expectRefused(await srv.attempt('/', '127.0.0.2'), '5');
  });

  test('setLimits({}) lifts every limit', async () => {
    const k = newKey('lifted');
    setLimits({ maxConnections: 1, maxConnectionsPerKey: 1, maxConnectionsPerAddress: 1 });
    const srv = await startLimited(() => ({ ...sinkOpts, heartbeatMs: 0, key: k }));
    expectAccepted(await srv.attempt(), kind);
    expectRefused(await srv.attempt(), '5');
    setLimits({});
    for (let i = 0; i < 3; i++) expectAccepted(await srv.attempt(), kind);
    expect(getConnectionCount(k)).toBe(4);
  });

  test.each([
    ['maxConnections', { maxConnections: 2 }],
    ['maxConnectionsPerKey', { maxConnectionsPerKey: 2 }],
    ['maxConnectionsPerAddress', { maxConnectionsPerAddress: 2 }],
  ])('%s set while streams are open counts them: the next one is refused, and one leaving frees a slot', async (_, limits) => {
    const k = newKey('late-limit');
    const srv = await startLimited(() => ({ ...sinkOpts, heartbeatMs: 0, key: k }));
    const first = await srv.attempt('/', '127.0.0.2');
    expectAccepted(first, kind);
    expectAccepted(await srv.attempt('/', '127.0.0.2'), kind);
    setLimits(limits);
    expectRefused(await srv.attempt('/', '127.0.0.2'), '5');
    first.client.destroy();
    await closedStream(first.stream);
    expectAccepted(await srv.attempt('/', '127.0.0.2'), kind);
    expectRefused(await srv.attempt('/', '127.0.0.2'), '5');
  });

  test('a setLimits call that throws changes nothing', async () => {
    const k = newKey('unchanged');
    setLimits({ maxConnections: 1, retryAfterSeconds: 9 });
    expect(() => setLimits({ maxConnections: 5, maxConnectionsPerKey: -1 })).toThrow(TypeError);
    expect(() => setLimits({ maxConnections: 5, retryAfterSeconds: 0.5 })).toThrow(TypeError);
    const srv = await startLimited(() => ({ ...sinkOpts, heartbeatMs: 0, key: k }));
    expectAccepted(await srv.attempt(), kind);
    expectRefused(await srv.attempt(), '9');
  });
});
