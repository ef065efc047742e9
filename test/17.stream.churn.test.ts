// 2 000 sequential adopted streams: each client connects, gets one event and
// goes (or, every other cycle, the server closes). Exact callback totals,
// then no fd and no core connection left behind.
import * as fs from 'node:fs';
import { native } from '../lib/native';
import { openStreamCount } from '../lib/stream';
import { connect, eventually, startSSE, within, useTestEnv } from './helpers/server';

const CYCLES = 2000;
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

  for (let i = 0; i < CYCLES; i++) {
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
}, 60_000);
