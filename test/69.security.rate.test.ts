// Per-address connect rate and the client address behind proxies (issue 11,
// security controls). setLimits({ connectRatePerAddress: { tokens, perMs } })
// is a token bucket per client address: past it, 429 with Retry-After (the
// seconds until the next token) and no stream. With `trustProxy`,
// X-Forwarded-For is believed only when the peer is trusted, and the client
// is the rightmost hop that is not; that address feeds the connect rate and
// maxConnectionsPerAddress alike. node:http (both sinks) and web streams.
import { createSSEStream, getMetrics, metricsText, setLimits, sseResponse } from '../lib/index';
import { clientAddress, compileTrust } from '../lib/stream/access';
import { SINKS, connect, eventually, startSSE, useTestEnv } from './helpers/server';

useTestEnv();
afterEach(() => setLimits({}));

describe.each(SINKS)('node:http, %s sink', (_kind, sinkOpts) => {
  test('past the connect rate: 429 with Retry-After, no stream; a token comes back in time', async () => {
    setLimits({ connectRatePerAddress: { tokens: 2, perMs: 60_000 } });
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0 });
    for (let i = 0; i < 2; i++) {
      const c = await connect(srv.port);
      await srv.opened.next();
      expect((await c.waitForHead()).statusCode).toBe(200);
    }
    const limitedBefore = getMetrics().rateLimited;
    const third = await connect(srv.port);
    const { stream } = await srv.opened.next();
    expect((await third.waitForHead()).statusCode).toBe(429);
    expect(third.reader.header('retry-after')).toBe('30');
    expect(stream.closed).toBe(true);
    expect((stream.closeReason as { code?: string }).code).toBe('SSE_LIMIT');
    expect((stream.closeReason as Error).message).toContain('connectRatePerAddress');
    expect(getMetrics().rateLimited).toBe(limitedBefore + 1);
    expect(metricsText()).toMatch(new RegExp(`^sse_rate_limited_total ${limitedBefore + 1}$`, 'm'));

    setLimits({ connectRatePerAddress: { tokens: 1, perMs: 150 } });
    const a = await connect(srv.port);
    await srv.opened.next();
    expect((await a.waitForHead()).statusCode).toBe(200);
    const b = await connect(srv.port);
    await srv.opened.next();
    expect((await b.waitForHead()).statusCode).toBe(429);
    expect(b.reader.header('retry-after')).toBe('1');
    await new Promise((r) => setTimeout(r, 200));
    const c = await connect(srv.port);
    await srv.opened.next();
    expect((await c.waitForHead()).statusCode).toBe(200);
  });

  test('behind a trusted proxy, X-Forwarded-For names the client for the rate and the per-address count', async () => {
    setLimits({ connectRatePerAddress: { tokens: 1, perMs: 60_000 }, maxConnectionsPerAddress: 1 });
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, trustProxy: ['127.0.0.0/8', '10.0.0.0/8'] });
    const status = async (xff: string) => {
      const c = await connect(srv.port, { headers: { 'X-Forwarded-For': xff } });
      const { stream } = await srv.opened.next();
      return [(await c.waitForHead()).statusCode, stream] as const;
    };
    // A spoofed left part does not matter: the rightmost untrusted hop does.
    expect((await status('6.6.6.6, 198.51.100.1'))[0]).toBe(200);
    expect((await status('7.7.7.7, 198.51.100.1'))[0]).toBe(429);
    // Another client through the same proxy chain (10.x is trusted too).
    const [ok, s2] = await status('198.51.100.2, 10.1.2.3');
    expect(ok).toBe(200);
    // A new token for 198.51.100.2, but its one connection is open: 503.
    setLimits({ connectRatePerAddress: { tokens: 5, perMs: 60_000 }, maxConnectionsPerAddress: 1 });
    expect((await status('198.51.100.2'))[0]).toBe(503);
    s2.close();
    await eventually(() => s2.closed, 'the stream to close');
    expect((await status('198.51.100.2'))[0]).toBe(200);
  });

  test('an untrusted peer: X-Forwarded-For is ignored', async () => {
    setLimits({ connectRatePerAddress: { tokens: 1, perMs: 60_000 } });
    const srv = await startSSE({ ...sinkOpts, heartbeatMs: 0, trustProxy: ['10.0.0.0/8'] });
    const a = await connect(srv.port, { headers: { 'X-Forwarded-For': '198.51.100.7' } });
    await srv.opened.next();
    expect((await a.waitForHead()).statusCode).toBe(200);
    const b = await connect(srv.port, { headers: { 'X-Forwarded-For': '198.51.100.8' } });
    await srv.opened.next();
    expect((await b.waitForHead()).statusCode).toBe(429);
  });
});

test('web streams: the `address` option (and X-Forwarded-For from a trusted one) feed the rate', () => {
  setLimits({ connectRatePerAddress: { tokens: 1, perMs: 60_000 } });
  const open = (address: string, xff?: string) =>
    createSSEStream({
      heartbeatMs: 0,
      address,
      trustProxy: ['127.0.0.1'],
      request: new Request('http://l/e', { headers: xff ? { 'X-Forwarded-For': xff } : {} }),
    });
  const a = open('192.0.2.1');
  expect(a.sse.closed).toBe(false);
  const b = open('192.0.2.1');
  expect(b.sse.closed).toBe(true);
  const res = sseResponse(b.stream);
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe('60');
  expect(open('127.0.0.1', '192.0.2.9').sse.closed).toBe(false);
  expect(open('127.0.0.1', '192.0.2.9').sse.closed).toBe(true);
  // Untrusted peer: its X-Forwarded-For is not believed.
  expect(open('192.0.2.1', '192.0.2.50').sse.closed).toBe(true);
  for (const s of [a]) s.close();
});

test('clientAddress: the rightmost untrusted hop', () => {
  const trust = compileTrust(['10.0.0.0/8', '::1', '2001:db8::/32']);
  expect(clientAddress('::ffff:10.0.0.1', '1.1.1.1, 2.2.2.2, 10.9.9.9', trust)).toBe('2.2.2.2');
  expect(clientAddress('::1', '[2001:db8::5]:443, 10.0.0.2', trust)).toBe('2001:db8::5');
  expect(clientAddress('10.0.0.1', '10.0.0.7', trust)).toBe('10.0.0.7');
  expect(clientAddress('10.0.0.1', 'garbage, 10.0.0.7', trust)).toBe('10.0.0.7');
  expect(clientAddress('10.0.0.1', '3.3.3.3:8080', trust)).toBe('3.3.3.3');
  expect(clientAddress('5.5.5.5', '1.1.1.1', trust)).toBe('5.5.5.5');
  expect(clientAddress('5.5.5.5', '1.1.1.1', undefined)).toBe('5.5.5.5');
  expect(clientAddress('10.0.0.1', ['1.1.1.1', '4.4.4.4'], (a) => a.startsWith('10.'))).toBe('4.4.4.4');
});

test('trustProxy CIDRs, IPv4 and IPv6', () => {
  const t = compileTrust(['10.0.0.0/8', '::1', '2001:db8::/32', '192.168.1.7', '172.16.0.0/12', 'fe80::/10']);
  const yes = ['10.1.2.3', '::1', '2001:db8:1::5', '192.168.1.7', '172.31.255.255', 'fe80::1', 'febf::1'];
  const no = ['11.0.0.1', '::2', '2001:db9::1', '192.168.1.8', '172.32.0.0', 'fec0::1', 'garbage', '1.2.3', '1.2.3.4.5', '256.1.1.1'];
  expect(yes.filter((a) => !t(a))).toEqual([]);
  expect(no.filter((a) => t(a))).toEqual([]);
  const all = compileTrust(['0.0.0.0/0', '::/0']);
  expect([all('255.255.255.255'), all('0.0.0.0'), all('2001::1')]).toEqual([true, true, true]);
});

test('bad settings are TypeErrors that name the fix', () => {
  expect(() => setLimits({ connectRatePerAddress: { tokens: 0, perMs: 1000 } })).toThrow(/tokens >= 1/);
  expect(() => setLimits({ connectRatePerAddress: 5 as never })).toThrow(/\{ tokens: 10, perMs: 60000 \}/);
  expect(() => createSSEStream({ trustProxy: ['10.0.0.0/33'] })).toThrow(/not an address or a CIDR/);
  expect(() => createSSEStream({ trustProxy: 'loopback' as never })).toThrow(TypeError);
});
