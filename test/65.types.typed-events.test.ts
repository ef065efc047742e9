// Typed events: SSEStream<E>, createSSEStream<E>() and broadcast<E>() check
// event names and data types at compile time, and untyped use keeps
// accepting any message. Checked by running tsc (strict) on a consumer file:
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

test('tsc accepts the typed and untyped uses and refuses exactly the marked lines', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-typed-'));
  try {
    fs.writeFileSync(path.join(dir, 'consumer.ts'), consumer);
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
    const expected = new Set<number>();
    consumer.split('\n').forEach((line, i) => {
      if (line.endsWith('// error')) expected.add(i + 1);
    });
    expect(expected.size).toBe(5);
    expect([...errorLines].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
