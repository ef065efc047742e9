// Where the core's flush sits in the loop (issue 16, bench/README.md
// "Latency tail"): a broadcast or send made in an I/O callback (a request
// handler, a socket's 'data', a Redis message) is written right after the
// poll phase, before the setImmediate callbacks of that turn and before the
// next turn's timers, not one whole loop turn later.
import * as net from 'node:net';
import { broadcast } from '../lib/index';
import { native } from '../lib/native/binding';
import { SINKS, connect, listen, turn, within } from './helpers/server';
import { newKey, startHub, useHubEnv } from './helpers/hub';

useHubEnv();

/** A net server whose first 'data' event (an I/O callback, poll phase) runs `onData`. */
async function ioCallback(onData: () => void): Promise<() => void> {
  const srv = await listen(
    net.createServer((s) => {
      s.once('data', () => {
        onData();
        s.end();
      });
    }),
  );
  return () => {
    const c = net.connect(srv.port, '127.0.0.1', () => c.write('x'));
    c.on('error', () => {});
    c.on('close', () => c.destroy());
  };
}

describe.each(SINKS)('flush after an I/O callback (%s sink)', (_name, sinkOpts) => {
  test('a broadcast made in an I/O callback is written before that turn\'s setImmediate and the next turn\'s timers', async () => {
    const k = newKey('flush-phase');
    const srv = await startHub({ heartbeatMs: 0, key: k, ...sinkOpts });
    const client = await connect(srv.port);
    await srv.opened.next();
    await turn();
    // What the core has written (adopted) or handed to the res.write sink.
    const out = () => {
      const s = native.stats();
      return s.tryWrites + s.handoffs;
    };
    const seen: { immediate?: number; timeout?: number; before?: number } = {};
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const trigger = await ioCallback(() => {
      seen.before = out();
      expect(broadcast(k, 'io', 1)).toBe(1);
      setImmediate(() => {
        seen.immediate = out();
      });
      setTimeout(() => {
        seen.timeout = out();
        resolve();
      }, 0);
    });
    trigger();
    await within(done, 'the I/O callback and its timers');
    // Before: the flush waited for the next turn's prepare phase, after the
    // setImmediate callbacks and the timers, so both still saw nothing out.
    expect(seen.immediate).toBeGreaterThan(seen.before!);
    expect(seen.timeout).toBeGreaterThan(seen.before!);
    await client.waitForEvents(1);
    expect(client.events.map((e) => [e.event, e.data])).toEqual([['io', '1']]);
  });
});

test('a stream.send() in an I/O callback is written before that turn\'s setImmediate', async () => {
  const k = newKey('flush-phase-send');
  const srv = await startHub({ heartbeatMs: 0, key: k });
  const client = await connect(srv.port);
  const { stream } = await srv.opened.next();
  let resolve!: (v: [number, number]) => void;
  const done = new Promise<[number, number]>((r) => (resolve = r));
  const trigger = await ioCallback(() => {
    const before = native.stats().tryWrites;
    stream.send({ data: 'from-io' });
    setImmediate(() => resolve([before, native.stats().tryWrites]));
  });
  trigger();
  const [before, after] = await within(done, 'the I/O callback');
  expect(after).toBeGreaterThan(before);
  await client.waitForEvents(1);
  expect(client.events[0].data).toBe('from-io');
});
