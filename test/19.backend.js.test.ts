// The TypeScript engine (lib/native/js-engine) on its own, with a sink that
// takes or refuses what it is handed: the addon's constants, the records
// format, and the slow-consumer rules it shares with the core:
// backpressure above highWaterMark, maxBuffered charged a share of each
// broadcast batch and judged after a hand-off, slowConsumerMs for a stalled
// queue, 'drop' refusing sends until the sink takes bytes. Runs in both Jest projects.
import type { MemberOptions, NativeBinding } from '../lib/native/binding-types';
import { backend } from '../lib/native/binding';
import { createJsBinding } from '../lib/native/js-engine';
import { loadAddon } from '../lib/native/load';
import { eventually } from './helpers/server';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Harness {
  b: NativeBinding;
  id: number;
  /** What the sink was handed, as text. */
  got: string[];
  drains: number;
  closes: number[];
  /** Whether the sink takes a hand-off at once (else it holds it until b.ack). */
  accept: boolean;
}

function open(options: Partial<MemberOptions>): Harness {
  const b = createJsBinding();
  const N = b.constants.Notify;
  const h: Harness = { b, id: 0, got: [], drains: 0, closes: [], accept: true };
  b.setNotify((records, n, buffers) => {
    for (let i = 0; i < n; i++) {
      if (records[i * 3] !== h.id) continue;
      const kind = records[i * 3 + 1];
      if (kind === N.DATA) {
        h.got.push(Buffer.from(buffers[records[i * 3 + 2]]).toString());
        if (h.accept) records[i * 3 + 1] = N.DATA_ACCEPTED;
      } else if (kind === N.DRAIN) {
        h.drains++;
      } else if (kind === N.CLOSE) {
        h.closes.push(records[i * 3 + 2]);
      }
    }
  });
  h.id = b.open({ highWaterMark: 1024, maxBuffered: 4096, policy: b.constants.Policy.CLOSE, heartbeatMs: 0, idleTimeoutMs: 0, maxDurationMs: 0, ...options });
  b.attach(h.id);
  return h;
}

const send = (h: Harness, data: string) => h.b.send(h.id, undefined, data, undefined, undefined, undefined);

test('the backend is the one the Jest project asked for (SSE_NATIVE)', () => {
  expect(backend).toBe(process.env.SSE_NATIVE === 'js' ? 'js' : 'native');
});

test("the TypeScript engine's constants and status table are the addon's", () => {
  const addon = loadAddon() as NativeBinding;
  expect(JSON.parse(JSON.stringify(createJsBinding().constants))).toEqual(JSON.parse(JSON.stringify(addon.constants)));
  const js = createJsBinding();
  for (const code of Object.values(addon.constants.Errno)) expect(js.errName(code)).toBe(addon.errName(code));
});

test('a bad field is refused with the addon error (class, code, text); nothing is queued', () => {
  const h = open({});
  expect(() => h.b.send(h.id, 'a\nb', 'x', undefined, undefined, undefined)).toThrow(
    expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: '`event` must not contain CR or LF: pass a one-line event name (line breaks belong in `data`)' }),
  );
  expect(() => h.b.hubBroadcast('k', undefined, 'x', 'a\0', undefined, undefined)).toThrow('broadcast: `id` must not contain CR, LF or NUL: pass a one-line id');
  expect(h.b.bufferedAmount(h.id)).toBe(0);
});

test('above highWaterMark a send returns backpressure; one event larger than maxBuffered is handed over, not dropped or closed; drain follows', async () => {
  const h = open({});
  const R = h.b.constants.SendResult;
  expect(send(h, 'a')).toBe(R.SUCCESS);
  expect(send(h, 'x'.repeat(10_000))).toBe(R.BACKPRESSURE);
  await turn();
  expect(h.got).toEqual([`data: a\n\ndata: ${'x'.repeat(10_000)}\n\n`]);
  expect(h.closes).toEqual([]);
  expect(h.drains).toBe(1);
  expect(h.b.bufferedAmount(h.id)).toBe(0);
  expect(h.b.memberStats(h.id)).toMatchObject({ events: 2, bytes: h.got[0].length });
});

test("'close': a burst over maxBuffered is handed whole; more than maxBuffered waiting behind a hand-off the sink has not taken since the previous flush closes the member (ENOBUFS)", async () => {
  const h = open({});
  h.accept = false;
  send(h, 'x'.repeat(6000)); // over maxBuffered, in one turn
  await turn();
  expect(h.got).toHaveLength(1); // handed whole: never judged by its size
  expect(h.closes).toEqual([]);
  h.b.ack(h.id); // the sink wrote it
  send(h, 'y'.repeat(3000));
  await turn();
  expect(h.got).toHaveLength(2); // handed; the sink holds it
  expect(h.closes).toEqual([]);
  send(h, 'z'.repeat(5000)); // waits behind it
  await turn();
  // The sink took nothing since the previous flush: the policy applies.
  expect(h.closes).toEqual([h.b.constants.Errno.ENOBUFS]);
  expect(h.b.stats()).toMatchObject({ slowConsumerCloses: 1, closedSlowConsumer: 1, connectionsOpen: 0 });
});

test("'drop': a member judged slow has what it is sent dropped (counted) until the sink takes bytes; nothing queued is lost", async () => {
  const h = open({ policy: 1 });
  h.accept = false;
  send(h, 'first');
  await turn(); // handed, held by the sink
  send(h, 'x'.repeat(3000));
  send(h, 'y'.repeat(3000));
  await turn(); // judged: 6 KB waiting, nothing taken
  expect(h.closes).toEqual([]);
  expect(send(h, 'dropped')).toBe(h.b.constants.SendResult.DROPPED);
  expect(h.b.stats().drops).toBe(1);
  h.accept = true;
  h.b.ack(h.id); // progress: sends are accepted again
  await turn();
  expect(send(h, 'after')).not.toBe(h.b.constants.SendResult.DROPPED);
  await turn();
  await turn();
  expect(h.got).toEqual(['data: first\n\n', `data: ${'x'.repeat(3000)}\n\ndata: ${'y'.repeat(3000)}\n\n`, 'data: after\n\n']);
  expect(h.drains).toBeGreaterThanOrEqual(1);
});

test('a broadcast batch costs each member its share of maxBuffered; a stalled queue above highWaterMark closes after slowConsumerMs', async () => {
  const h = open({ slowConsumerMs: 500 });
  const P = h.b.constants.Policy.CLOSE;
  for (let i = 0; i < 3; i++) {
    const id = h.b.open({ highWaterMark: 1024, maxBuffered: 1 << 20, policy: P, heartbeatMs: 0, idleTimeoutMs: 0, maxDurationMs: 0, slowConsumerMs: 0 });
    h.b.attach(id);
    h.b.hubJoin('k', id, undefined);
  }
  expect(h.b.hubJoin('k', h.id, undefined)).toBe(h.b.constants.Join.JOINED);
  h.accept = false;
  for (let i = 0; i < 10; i++) expect(h.b.hubBroadcast('k', undefined, 'b'.repeat(1000), undefined, undefined, undefined)).toBe(4);
  await turn(); // handed over, never taken
  for (let i = 0; i < 10; i++) h.b.hubBroadcast('k', undefined, 'b'.repeat(1000), undefined, undefined, undefined);
  await turn(); // judged: 10 KB waiting, charged a quarter of it
  expect(h.b.bufferedAmount(h.id)).toBeGreaterThan(4096 * 4);
  expect(h.closes).toEqual([]);
  expect(h.b.hubPressure('k')).toBe(4);
  await eventually(() => h.closes.length === 1, 'the slow-consumer close');
  expect(h.closes).toEqual([h.b.constants.Errno.ENOBUFS]);
  expect(h.b.hubCount('k')).toBe(3);
});

test('a queue that the sink keeps taking is never slow, however much is broadcast', async () => {
  const h = open({ slowConsumerMs: 50 });
  h.b.hubJoin('k', h.id, undefined);
  const until = Date.now() + 200;
  while (Date.now() < until) {
    for (let i = 0; i < 10; i++) h.b.hubBroadcast('k', 'e', 'b'.repeat(500), undefined, undefined, undefined);
    await turn();
  }
  expect(h.closes).toEqual([]);
  expect(h.got.join('').split('event: e\n').length - 1).toBe(h.b.stats().broadcasts);
});

test('a heartbeat after each heartbeatMs with nothing written', async () => {
  const h = open({ heartbeatMs: 20 });
  await eventually(() => h.got.length >= 2, 'two heartbeats');
  expect(new Set(h.got)).toEqual(new Set([': keepalive\n\n']));
  expect(h.b.stats().heartbeatsSent).toBeGreaterThanOrEqual(2);
  h.b.close(h.id, false);
});

test('idleTimeoutMs closes gracefully (ETIMEDOUT) when no event was sent for that long', async () => {
  const h = open({ idleTimeoutMs: 100 });
  send(h, 'one');
  await eventually(() => h.closes.length === 1, 'the idle close');
  expect(h.got).toEqual(['data: one\n\n']);
  expect(h.closes).toEqual([h.b.constants.Errno.ETIMEDOUT]);
  expect(h.b.stats().closedTimeout).toBe(1);
});
