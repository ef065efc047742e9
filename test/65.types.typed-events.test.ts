// Typed events: SSEStream<E>, createSSEStream<E>() and broadcast<E>() check
// event names and data types at compile time, and untyped use keeps
// accepting any message; on the client side events<E>(), fetchEventSource<E>()
// (json: true), EventSource<E>, useEventSource<E>() and useSSEStream<E>()
// (json: true) check names and type the parsed data, and the untyped forms
// keep their meaning. Checked by running tsc (strict) on a consumer file:
// every line marked `// error` must fail, and no other line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

const consumer = `
import type { IncomingMessage, ServerResponse } from 'node:http';
import { broadcast, createSSEStream, type SSEStream } from ${JSON.stringify(path.join(ROOT, 'lib', 'index'))};

type Events = { progress: { pct: number }; done: string };
declare const req: IncomingMessage;
declare const res: ServerResponse;

const sse = createSSEStream<Events>(req, res);
sse.send({ event: 'progress', data: { pct: 50 } });
sse.send({ event: 'done', data: 'ok', id: '7' });
sse.send({ event: 'progress', data: { pct: 'half' } }); // error
sse.send({ event: 'unknown', data: 1 }); // error
sse.send({ data: 'no event name' }); // error
const typed: SSEStream<Events> = sse;
typed.close();

const web = createSSEStream<Events>();
web.send({ event: 'done', data: 'bye' });
web.send({ event: 'done', data: 42 }); // error

const plain = createSSEStream(req, res);
plain.send({ data: { anything: true } });
plain.send({ event: 'whatever', data: [1, 2] });

broadcast<Events>('room', 'progress', { pct: 1 });
broadcast<Events>('room', 'progress', { pct: true }); // error
broadcast<Events>('room', { event: 'done', data: 'x' });
broadcast('room', 'any', { free: 'form' });
`;

/** The lines tsc refuses in `source` (strict, as a consumer's app compiles it). */
function refusedLines(source: string): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-typed-'));
  try {
    fs.writeFileSync(path.join(dir, 'consumer.ts'), source);
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
        files: ['consumer.ts'],
      }),
    );
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    const errorLines = new Set<number>();
    for (const m of r.stdout.matchAll(/consumer\.ts\((\d+),\d+\): error/g)) errorLines.add(Number(m[1]));
    // An error in the package's own sources would make every check meaningless.
    expect(r.stdout.split('\n').filter((l) => /error TS/.test(l) && !/consumer\.ts\(/.test(l))).toEqual([]);
    return [...errorLines].sort((a, b) => a - b);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function markedLines(source: string): number[] {
  const expected: number[] = [];
  source.split('\n').forEach((line, i) => {
    if (line.endsWith('// error')) expected.push(i + 1);
  });
  return expected;
}

test('tsc accepts the typed and untyped uses and refuses exactly the marked lines', () => {
  expect(markedLines(consumer)).toHaveLength(5);
  expect(refusedLines(consumer)).toEqual(markedLines(consumer));
}, 120_000);

const lib = (p: string) => JSON.stringify(path.join(ROOT, 'lib', p));
const clientConsumer = `
import { EventSource, events, fetchEventSource } from ${lib('node-client')};
import * as browser from ${lib('client/browser')};
import { useEventSource, useSSEStream, type SSEEventOf } from ${lib('react/index')};

type Events = { progress: { pct: number }; done: string };

export async function client(): Promise<void> {
  for await (const ev of events<Events>('http://127.0.0.1/e', { json: true })) {
    if (ev.event === 'progress') ev.data.pct.toFixed();
    else ev.data.toUpperCase();
    if (ev.event === 'progress') ev.data.pct.toUpperCase(); // error
    if (ev.event === 'nope') continue; // error
  }
  for await (const ev of events('http://127.0.0.1/e')) ev.data.toUpperCase();
  for await (const ev of events<Events>('http://127.0.0.1/e')) void ev; // error
  await fetchEventSource<Events>('http://127.0.0.1/e', { json: true, onmessage: (ev) => void (ev.event === 'done' && ev.data.toUpperCase()) });
  await fetchEventSource<Events>('http://127.0.0.1/e', { json: true, onmessage: (ev) => void ev.data.pct }); // error
  await fetchEventSource('http://127.0.0.1/e', { onmessage: (ev) => void ev.data.toUpperCase() });
  await fetchEventSource('http://127.0.0.1/e', { json: true, onmessage: (ev) => void (ev.event + String(ev.data)) });
  await fetchEventSource('http://127.0.0.1/e', { json: true, onmessage: (ev) => void ev.data.toUpperCase() }); // error
  await browser.fetchEventSource<Events>('/e', { json: true, onmessage: (ev) => void (ev.event === 'progress' && ev.data.pct) });
  for await (const ev of browser.events<Events>('/e', { json: true })) if (ev.event === 'done') ev.data.toUpperCase();
  const es = new EventSource<Events>('http://127.0.0.1/e');
  es.addEventListener('progress', (ev) => JSON.parse(ev.data));
  es.addEventListener('open', () => es.close());
  es.addEventListener('error', (ev) => ev.message);
  es.addEventListener('progres', () => es.close()); // error
  const untyped = new EventSource('http://127.0.0.1/e');
  untyped.addEventListener('anything', (ev) => ev.data.toUpperCase());
  const typedEvent: SSEEventOf<Events> = { event: 'done', data: 'ok', id: undefined };
  void typedEvent;
}

export function Hooks(): void {
  const { event } = useEventSource<Events>('/e', { json: true, events: ['progress', 'done'], onEvent: (ev) => void (ev.event === 'progress' && ev.data.pct.toFixed()) });
  if (event?.event === 'progress') event.data.pct.toFixed();
  if (event?.event === 'done') event.data.toUpperCase();
  useEventSource<Events>('/e', { json: true, events: ['progress', 'finished'] }); // error
  useEventSource<Events>('/e', { json: true, events: ['done'], onEvent: (ev) => void ev.data.pct }); // error
  const old = useEventSource<{ count: number }>('/e', { events: ['tick'] });
  void old.data?.count.toFixed();
  const stream = useSSEStream<Events>('/chat', { json: true, onEvent: (ev) => void (ev.event === 'done' && ev.data.toUpperCase()) });
  void stream.events.map((e) => (e.event === 'progress' ? e.data.pct : e.data.length));
  useSSEStream<Events>('/chat', { json: true, done: (ev) => ev.event === 'done', text: (ev) => (ev.event === 'done' ? ev.data : undefined) });
  useSSEStream<Events>('/chat', { json: true, onEvent: (ev) => void ev.data.pct }); // error
  const legacy = useSSEStream<{ token: string }>('/chat', { onEvent: (ev) => void ev.data.token.toUpperCase() });
  void legacy.events[0]?.data.token;
}
`;

test('client and hooks: typed with json: true, checked names and data; untyped forms unchanged', () => {
  expect(markedLines(clientConsumer)).toHaveLength(9);
  expect(refusedLines(clientConsumer)).toEqual(markedLines(clientConsumer));
}, 120_000);
