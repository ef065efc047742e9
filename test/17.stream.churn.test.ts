// 10 000 sequential adopted streams: each client connects, gets one event and
// goes (or, every other cycle, the server closes). Exact callback totals,
// then no fd and no core connection left behind, and memory flat between
// cycle 3 000 and cycle 10 000, after a full GC: the JS heap in use grows by
// under 1 MB (150 B per cycle), and RSS outside V8's heap (the core, malloc,
// libuv, client sockets) by under 8 MB (1.2 KB per cycle; the core's own
// leaks are LeakSanitizer's job, in its churn test). V8's heap capacity itself grows
// for a while under churn (its young generation), so raw RSS is not the
// measure; it flattens after ~15 000 cycles (see bench/node).
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { native } from '../lib/native/binding';
import { openStreamCount } from '../lib/stream/stream';
import { connect, eventually, startSSE, within, useTestEnv } from './helpers/server';

const CYCLES = 10_000;
const RSS_FROM = 3000;
const HEAP_SLACK = 1 << 20;
const NATIVE_SLACK = 8 << 20;

// A full GC from inside Jest: expose it, then fetch it from a fresh context.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function memory(): { heap: number; native: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, native: m.rss - m.heapTotal };
}
const FD_TOLERANCE = 8;

const fdCount = () => fs.readdirSync('/proc/self/fd').length;

useTestEnv();

test(`${CYCLES} open/close cycles leave no fd and no core connection behind`, async () => {
  let closes = 0;
  let aborts = 0;
  let withReason = 0;
  let notAdopted = 0;
  const srv = await startSSE({ heartbeatMs: 0 });

  // Warm up once so lazily created state (the core's loop context) is counted in the baseline.
  {
    const c = await connect(srv.port);
    const { stream } = await srv.opened.next();
    stream.send({ data: 'warm' });
    await c.waitForEvents(1);
    c.destroy();
    await within(new Promise((r) => stream.once('close', r)), 'the warm-up stream to close');
  }
  await eventually(() => native.stats().connectionsOpen === 0, 'the warm-up connection to be freed');
  const fdsBefore = fdCount();
  const adoptedBefore = native.stats().connectionsAdopted;

  let from = { heap: 0, native: 0 };
  for (let i = 0; i < CYCLES; i++) {
    // A full GC every 1 000 cycles, so the heap is measured at a steady cadence.
    if (i % 1000 === 0) {
      const m = memory();
      if (i === RSS_FROM) from = m;
    }
    const client = await connect(srv.port, { path: `/churn/${i}` });
    const { stream } = await srv.opened.next();
    if (stream.sinkKind !== 'adopted') notAdopted++;
    stream.on('close', () => {
      closes++;
      if (stream.closeReason) withReason++;
    });
    stream.signal.addEventListener('abort', () => aborts++);
    stream.send({ id: String(i), data: 'one' });
    if (i % 2 === 0) {
      await client.waitForEvents(1);
      client.destroy(); // the client leaves
    } else {
      stream.close(); // the server ends it
      await client.waitForEnd();
      client.destroy();
    }
  }

  await eventually(() => closes === CYCLES && openStreamCount() === 0, `all ${CYCLES} closes (got ${closes})`);
  await eventually(() => native.stats().connectionsOpen === 0, 'the core to report no open connection');
  expect(notAdopted).toBe(0);
  expect(closes).toBe(CYCLES);
  expect(aborts).toBe(CYCLES);
  expect(withReason).toBe(CYCLES / 2);
  expect(native.stats().connectionsAdopted - adoptedBefore).toBe(CYCLES);
  await eventually(() => fdCount() <= fdsBefore + FD_TOLERANCE, `fds back near ${fdsBefore} (now ${fdCount()})`);
  expect(fdCount()).toBeLessThanOrEqual(fdsBefore + FD_TOLERANCE);
  const to = memory();
  expect(to.heap - from.heap).toBeLessThan(HEAP_SLACK);
  expect(to.native - from.native).toBeLessThan(NATIVE_SLACK);
}, 120_000);
