// The README's quick starts, as a new user pastes them: each server block is
// written to a file, run with `node` (the package resolved by its name, the
// frameworks from node_modules), and read with a real EventSource; the
// channels block runs appended to the Express one, as the README says. The
// Next.js blocks must be the files of examples/next, which test/75 builds
// and runs.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventSource } from '../lib/node-client';
import { freePort } from './helpers/server';

const ROOT = path.resolve(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const BOUND_MS = 15_000;

/** The fenced block of `lang` right after the paragraph starting with `**title**`. */
function block(title: string, lang: string): string {
  const at = README.indexOf(`\n**${title}**`);
  if (at < 0) throw new Error(`README: no quick start titled **${title}**`);
  const open = README.indexOf('```' + lang + '\n', at);
  const close = README.indexOf('\n```', open + 4);
  return README.slice(open + lang.length + 4, close + 1);
}

let dir: string;
const started = new Set<ChildProcess>();

beforeAll(() => {
  // Inside the package, so that `import ... from 'sse-native'` resolves to
  // this package by its name (its `exports`, compiled in dist/).
  dir = fs.mkdtempSync(path.join(ROOT, '.quickstart-'));
  if (!fs.existsSync(path.join(ROOT, 'dist', 'adapters', 'hono.js'))) throw new Error('build first: npx tsc -p tsconfig.json');
});

afterAll(() => {
  for (const c of started) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `source` as server.mjs with its port changed to a free one; resolves once it prints its URL. */
async function runServer(name: string, source: string): Promise<{ base: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const code = source.replace(/listen\(3000|port: 3000|localhost:3000/g, (m) => m.replace('3000', String(port)));
  expect(code).not.toBe(source);
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(file, code);
  const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no URL printed within ${BOUND_MS} ms:\n${out}`)), BOUND_MS);
    const onData = (b: Buffer) => {
      out += b;
      if (out.includes(`http://localhost:${port}/events`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (out += b));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${out}`));
    });
  });
  return {
    base: `http://localhost:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      started.delete(child);
      expect(out).not.toMatch(/Error/);
    },
  };
}

/** Reads `n` events named `type` with a real EventSource, then closes it. */
async function read(url: string, type: string, n: number): Promise<{ id: string; data: unknown }[]> {
  const es = new EventSource(url);
  const got: { id: string; data: unknown }[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} '${type}' events from ${url}`)), BOUND_MS);
      es.addEventListener(type, (e) => {
        const m = e as MessageEvent<string>;
        got.push({ id: m.lastEventId, data: JSON.parse(m.data) });
        if (got.length === n) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    es.close();
  }
  return got;
}

const TICKS = [
  { id: '1', data: { n: 1 } },
  { id: '2', data: { n: 2 } },
];

test.each(['Express', 'Fastify', 'node:http', 'Hono', 'listenSSE'])('%s quick start runs as pasted and streams ticks', async (title) => {
  const server = await runServer(title.replace(/\W/g, ''), block(title, 'js'));
  try {
    expect(await read(`${server.base}/events`, 'tick', 2)).toEqual(TICKS);
  } finally {
    await server.stop();
  }
}, 40_000);

test('the channels block, added to the Express quick start, broadcasts to a room', async () => {
  const server = await runServer('channels', block('Express', 'js') + block('Channels', 'js'));
  try {
    const es = new EventSource(`${server.base}/rooms/a`);
    const got: string[] = [];
    es.addEventListener('message', (e) => got.push((e as MessageEvent<string>).data));
    try {
      let delivered = 0;
      const deadline = Date.now() + BOUND_MS;
      // Retried until the EventSource is registered (delivered 1), then checked.
      while (delivered === 0 && Date.now() < deadline) {
        const res = await fetch(`${server.base}/rooms/a`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: 'hi' }),
        });
        delivered = ((await res.json()) as { delivered: number }).delivered;
        if (delivered === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(delivered).toBe(1);
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got.map((d) => JSON.parse(d))).toEqual([{ text: 'hi' }]);
    } finally {
      es.close();
    }
  } finally {
    await server.stop();
  }
}, 40_000);

test.each([
  ['Next.js App Router', 'ts', 'app/api/clock/route.ts'],
  ['Next.js pages API route', 'ts', 'pages/api/ticks.ts'],
  ['React', 'tsx', 'app/simple/page.tsx'],
])('the %s quick start (%s) is examples/next/%s', (title, lang, file) => {
  expect(block(title, lang)).toBe(fs.readFileSync(path.join(ROOT, 'examples', 'next', file), 'utf8'));
});
