// examples/next as a user gets it: the package is packed (`npm pack`) and
// installed into a copy of the app together with next, react and react-dom
// from the npm registry (cache first), with no next.config option. For each
// bundler (Turbopack, Next 16's default, and webpack) the app is built with
// `next build` and served by `next start` on 127.0.0.1; then:
// - the App Router route and the pages API route are read with a real SSE
//   client (ids, resume from Last-Event-ID);
// - a broadcast made in an App Router route reaches a stream opened by the
//   pages route (one copy of the package for every route and layer);
// - a POST route streams a reply to fetchEventSource;
// - Chromium loads the useEventSource page, prerendered on the server with
//   the app's own React, and shows the events of both routes over one
//   connection each (the routes keep streaming, so no reconnect), and the
//   chat page shows a streamed reply;
// - when the clients leave, the server's streams close (counts back to 0).
// Also `npm run test:next`. Needs the npm registry or a warm npm cache.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { EventSource, fetchEventSource } from '../lib/node-client';
import { haveChromium, launchChromium } from './browser/chromium';
import { freePort } from './helpers/server';

const ROOT = path.resolve(__dirname, '..');
const APP_SRC = path.join(ROOT, 'examples', 'next');
const BOUND_MS = 15_000;

jest.setTimeout(240_000);

let work: string;
let app: string;
let browser: Browser | undefined;
const started = new Set<ChildProcess>();

/** Runs a command to its end, bounded; rejects with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b));
    child.stderr!.on('data', (b: Buffer) => (out += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      started.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}) in ${cwd}:\n${out.slice(-4000)}`));
    });
  });
}

/** Resolves once `pred()` resolves true, checking every 50 ms, failing after `ms` with `what`. */
async function eventually(pred: () => Promise<boolean> | boolean, what: string, ms = BOUND_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Server {
  base: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** `next start` on a free 127.0.0.1 port; stop() kills that process by its pid. */
async function nextStart(): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b));
  child.stderr!.on('data', (b: Buffer) => (out += b));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${out}`);
    return fetch(`${base}/api/announce`).then((r) => r.ok, () => false);
  }, 'next start to answer');
  return {
    base,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      started.delete(child);
    },
  };
}

type Received = { type: string; data: string; lastEventId: string };

/** Opens a real EventSource and collects the events named in `types`. */
function listen(url: string, types: string[], headers?: Record<string, string>) {
  const es = new EventSource(url, headers ? { headers } : undefined);
  const got: Received[] = [];
  let opens = 0;
  es.addEventListener('open', () => opens++);
  for (const t of types) {
    es.addEventListener(t, (e) => {
      const m = e as MessageEvent<string>;
      got.push({ type: t, data: m.data, lastEventId: m.lastEventId });
    });
  }
  return { es, got, opens: () => opens };
}

async function counts(base: string): Promise<{ clock: number; announcements: number }> {
  return (await (await fetch(`${base}/api/announce`)).json()) as { clock: number; announcements: number };
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-native-next-'));
  // The package as npm would publish it (`prepare` compiles lib/ first).
  const packed = await run('npm', ['pack', '--pack-destination', work, '--silent'], ROOT, 120_000);
  const tarball = path.join(work, packed.trim().split('\n').pop()!.trim());
  expect(fs.existsSync(tarball)).toBe(true);
  app = path.join(work, 'app');
  fs.cpSync(APP_SRC, app, {
    recursive: true,
    // What a contributor's own `npm install` / `next build` left there is not part of the app.
    filter: (src) => !/[\\/](node_modules|\.next|package-lock\.json|next-env\.d\.ts)([\\/]|$)/.test(src.slice(APP_SRC.length)),
  });
  const pkgPath = path.join(app, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
  pkg.dependencies['sse-native'] = `file:${tarball}`;
  fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
  // Runs the package's install script (the addon build), as for a user.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app, 200_000);
  expect(fs.existsSync(path.join(app, 'node_modules', 'sse-native', 'dist', 'index.js'))).toBe(true);
  if (haveChromium) browser = await launchChromium();
}, 420_000);

afterAll(async () => {
  await browser?.close();
  for (const child of started) child.kill('SIGKILL');
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const bundlers: [string, string[]][] = [
  ['turbopack', []],
  ['webpack', ['--webpack']],
];

describe.each(bundlers)('next build (%s) && next start', (name, flags) => {
  let server: Server;

  beforeAll(async () => {
    fs.rmSync(path.join(app, '.next'), { recursive: true, force: true });
    const out = await run(process.execPath, ['node_modules/next/dist/bin/next', 'build', ...flags], app, 240_000);
    // The build used the bundler asked for, and needed no next.config option.
    expect(out).toMatch(name === 'turbopack' ? /Turbopack/ : /webpack/i);
    server = await nextStart();
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
  });

  test('the App Router route streams ticks until the client leaves, and resumes after Last-Event-ID', async () => {
    const a = listen(`${server.base}/api/clock`, ['tick']);
    await eventually(() => a.got.length >= 3, 'three ticks from /api/clock');
    a.es.close();
    expect(a.got.slice(0, 3).map((e) => e.lastEventId)).toEqual(['1', '2', '3']);
    expect(a.got.slice(0, 3).map((e) => JSON.parse(e.data))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(a.opens()).toBe(1);

    const b = listen(`${server.base}/api/clock`, ['tick'], { 'Last-Event-ID': '41' });
    await eventually(() => b.got.length >= 1, 'a tick after resuming');
    b.es.close();
    expect(b.got[0].lastEventId).toBe('42');
    // Both clients left: Next aborted the request, the stream closed and left its key.
    await eventually(async () => (await counts(server.base)).clock === 0, 'the clock streams to close');
  });

  test('the pages API route streams, and a broadcast from an App Router route reaches it', async () => {
    const a = listen(`${server.base}/api/ticks`, ['tick', 'announcement']);
    await eventually(() => a.got.some((e) => e.type === 'tick'), 'a tick from /api/ticks');
    await eventually(async () => (await counts(server.base)).announcements === 1, 'the pages stream to be registered');
    const res = await fetch(`${server.base}/api/announce`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: `hello ${name}` }),
    });
    expect(await res.json()).toEqual({ delivered: 1 });
    await eventually(() => a.got.some((e) => e.type === 'announcement'), 'the announcement on the pages stream');
    a.es.close();
    const ann = a.got.find((e) => e.type === 'announcement')!;
    expect(JSON.parse(ann.data)).toEqual({ text: `hello ${name}` });
    expect(a.got[0]).toEqual({ type: 'tick', data: JSON.stringify({ n: 1, from: 'pages' }), lastEventId: '1' });
    await eventually(async () => (await counts(server.base)).announcements === 0, 'the pages stream to close');
  });

  test('a POST route streams a reply to fetchEventSource, then ends', async () => {
    const tokens: string[] = [];
    let done = 0;
    await fetchEventSource(`${server.base}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'hi from node' }),
      maxRetries: 0,
      onmessage: (ev) => {
        if (ev.event === 'token') tokens.push((JSON.parse(ev.data) as { content: string }).content);
        if (ev.event === 'done' && ev.data === '[DONE]') done++;
      },
    });
    expect(tokens.join('')).toBe('You said: hi from node ');
    expect(done).toBe(1);
  });

  (haveChromium ? test : test.skip)('Chromium: the useEventSource page renders events of both routes; the chat page streams a reply', async () => {
    const page: Page = await browser!.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    try {
      const res = await page.goto(`${server.base}/`, { timeout: BOUND_MS });
      expect(res?.status()).toBe(200);
      // Server-rendered with the hook (no ssr: false): the markup is there before any script runs.
      const html = await res!.text();
      expect(html).toContain('data-testid="app-router-state"');
      expect(html).toContain('connecting');
      const count = async (id: string) => Number(await page.getByTestId(id).textContent({ timeout: BOUND_MS }));
      await eventually(async () => (await count('app-router-count')) >= 3 && (await count('pages-api-count')) >= 3, 'three events of each route on the page');
      expect(await page.getByTestId('app-router-state').textContent()).toBe('connected');
      expect(await page.getByTestId('pages-api-state').textContent()).toBe('connected');
      // One connection per route all along: the routes keep streaming, nothing ended and reconnected.
      expect(await count('app-router-opens')).toBe(1);
      expect(await count('pages-api-opens')).toBe(1);
      await fetch(`${server.base}/api/announce`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: 'to the browser' }),
      });
      await eventually(async () => (await page.getByTestId('pages-api-announcement').count()) === 1, 'the announcement on the page');
      expect(await page.getByTestId('pages-api-announcement').textContent()).toBe('to the browser');

      // The README's client page: the latest tick, from the same route.
      await page.goto(`${server.base}/simple`, { timeout: BOUND_MS });
      await eventually(async () => Number(await page.getByTestId('simple-n').textContent()) >= 2, 'tick 2 on /simple');
      expect(await page.getByTestId('simple-state').textContent()).toBe('live');

      await page.goto(`${server.base}/chat`, { timeout: BOUND_MS });
      await page.getByRole('button', { name: 'Send' }).click();
      await eventually(async () => (await page.getByTestId('status').textContent()) === 'done', 'the chat reply to finish');
      expect(await page.getByTestId('reply').textContent()).toBe('You said: hello from the browser ');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    // The page left: its streams closed on the server.
    await eventually(async () => {
      const c = await counts(server.base);
      return c.clock === 0 && c.announcements === 0;
    }, 'the page streams to close');
    expect(server.output()).not.toMatch(/Error|Invalid hook call/);
  });
});
