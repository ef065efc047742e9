// The package as its consumers see it through package.json (exports,
// typesVersions, the ESM entries): tiny projects type-check with tsc under
// node10, node16, nodenext and bundler resolution, a server tsconfig without
// the DOM lib, a browser one with the `browser` condition; ESM and CommonJS
// consumers run and share one copy of the package.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDist, npm, repoRoot, tmpDir } from './helpers/pack';

jest.setTimeout(180_000);

let work: string;
const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

beforeAll(() => {
  ensureDist();
  work = tmpDir('sse-native-consumers-');
  const nm = path.join(work, 'node_modules');
  fs.mkdirSync(nm);
  // The package by its name, as `npm install` would place it (a symlink to this checkout).
  fs.symlinkSync(repoRoot, path.join(nm, 'sse-native'), 'dir');
  fs.symlinkSync(path.join(repoRoot, 'node_modules', '@types'), path.join(nm, '@types'), 'dir');
  fs.symlinkSync(path.join(repoRoot, 'node_modules', 'react'), path.join(nm, 'react'), 'dir');
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const serverSource = `
import { createSSEStream, broadcast, registerConnection, type SSEStream } from 'sse-native';
import { EventSource, fetchEventSource, createParser } from 'sse-native/client';
import { useEventSource, type UseEventSourceOptions } from 'sse-native/react';
export const uses: unknown[] = [createSSEStream, broadcast, registerConnection, fetchEventSource, createParser, useEventSource];
export function onStream(s: SSEStream): boolean { return s.send({ event: 'x', data: { a: 1 } }); }
export const es = (url: string) => new EventSource(url);
export const opts: UseEventSourceOptions<{ a: number }> = {
  onMessage(event, data) { void event.data.length; void data.a; },
  onError(err) { void err; },
};
`;

const browserSource = `
import { EventSource, fetchEventSource } from 'sse-native/client';
import { useEventSource } from 'sse-native/react';
// The browser entry's EventSource is the platform's own (DOM) constructor.
export const ctor: typeof globalThis.EventSource = EventSource;
export const es: globalThis.EventSource = new EventSource('/events', { withCredentials: true });
export const uses: unknown[] = [fetchEventSource, useEventSource];
// A DOM-typed callback is accepted by the hook's options.
export const onMessage = (event: MessageEvent<string>) => void event.data;
export const hookOpts: Parameters<typeof useEventSource>[1] = { onMessage };
`;

/** Writes a project under work/<name> and runs tsc on it; returns tsc's output ('' when clean). */
function typecheck(name: string, files: Record<string, string>, compilerOptions: Record<string, unknown>): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  const config = {
    compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', ...compilerOptions },
    files: Object.keys(files),
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return `${r.stdout}${r.stderr}`.trim() + (r.status === 0 ? '' : `\n(tsc exit ${r.status})`);
}

const server = { lib: ['ES2022'], types: ['node'] };

test.each([
  ['node10 (CommonJS), no DOM lib', { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, ...server }, 'ts'],
  ['node16 (CommonJS file), no DOM lib', { module: 'node16', moduleResolution: 'node16', ...server }, 'cts'],
  ['node16 (ESM file), no DOM lib', { module: 'node16', moduleResolution: 'node16', ...server }, 'mts'],
  ['nodenext (ESM file), no DOM lib', { module: 'nodenext', moduleResolution: 'nodenext', ...server }, 'mts'],
  ['bundler, no DOM lib', { module: 'esnext', moduleResolution: 'bundler', ...server }, 'ts'],
])('server consumer type-checks: %s', (label, options, ext) => {
  const name = label.replace(/[^a-z0-9]+/gi, '-');
  expect(typecheck(name, { [`server.${ext}`]: serverSource }, options)).toBe('');
});

test('browser consumer (bundler + customConditions browser + DOM): EventSource is the DOM one', () => {
  const out = typecheck(
    'browser',
    { 'app.ts': browserSource },
    { module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['ES2022', 'DOM'], types: [] },
  );
  expect(out).toBe('');
});

test('the browser entry exports the platform EventSource at run time (not undefined)', () => {
  const dir = path.join(work, 'browser-run');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'run.mjs');
  fs.writeFileSync(
    file,
    `class FakeEventSource {}
globalThis.EventSource = FakeEventSource;
const m = await import(${JSON.stringify(path.join(repoRoot, 'dist/client/browser.mjs'))});
console.log(JSON.stringify({ same: m.EventSource === FakeEventSource, fetchEventSource: typeof m.fetchEventSource }));`,
  );
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ same: true, fetchEventSource: 'function' });
});

test('ESM and CommonJS consumers run, with named exports, and share one copy of the package', () => {
  const dir = path.join(work, 'run');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'esm.mjs'),
    `import { createRequire } from 'node:module';
import { createSSEStream, encodeEvent, broadcast, getConnectionCount } from 'sse-native';
import sse from 'sse-native';
import { EventSource, fetchEventSource } from 'sse-native/client';
import { useEventSource } from 'sse-native/react';
const cjs = createRequire(import.meta.url)('sse-native');
console.log(JSON.stringify({
  createSSEStream: typeof createSSEStream, broadcast: typeof broadcast, EventSource: typeof EventSource,
  fetchEventSource: typeof fetchEventSource, useEventSource: typeof useEventSource,
  encoded: encodeEvent({ data: 'esm' }).toString(),
  oneCopy: cjs.getConnectionCount === getConnectionCount && sse === cjs,
}));`,
  );
  fs.writeFileSync(
    path.join(dir, 'cjs.cjs'),
    `const { createSSEStream, encodeEvent } = require('sse-native');
const { EventSource } = require('sse-native/client');
const { useEventSource } = require('sse-native/react');
console.log(JSON.stringify({ createSSEStream: typeof createSSEStream, EventSource: typeof EventSource,
  useEventSource: typeof useEventSource, encoded: encodeEvent({ data: 'cjs' }).toString() }));`,
  );
  const esm = spawnSync(process.execPath, ['esm.mjs'], { cwd: dir, encoding: 'utf8' });
  expect(esm.stderr).toBe('');
  expect(JSON.parse(esm.stdout)).toEqual({
    createSSEStream: 'function',
    broadcast: 'function',
    EventSource: 'function',
    fetchEventSource: 'function',
    useEventSource: 'function',
    encoded: 'data: esm\n\n',
    oneCopy: true,
  });
  const cjs = spawnSync(process.execPath, ['cjs.cjs'], { cwd: dir, encoding: 'utf8' });
  expect(cjs.stderr).toBe('');
  expect(JSON.parse(cjs.stdout)).toEqual({
    createSSEStream: 'function',
    EventSource: 'function',
    useEventSource: 'function',
    encoded: 'data: cjs\n\n',
  });
});
