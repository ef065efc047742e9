// lib/native/load.ts: the addon loads from the package's own directory, and
// every way it can fail says which file, why, and the fix (rebuild, pnpm's
// approve-builds, or keeping the package out of a bundle).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAddon, packageRoot } from '../lib/native/load';
import { repoRoot, tmpDir } from './helpers/pack';

let work: string;

beforeAll(() => {
  work = tmpDir('sse-native-loader-');
  delete process.env.SSE_NATIVE_PREBUILD;
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A directory that looks like an installed sse-native with nothing built. */
function fakePackage(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'sse-native', version: '0.0.0' }));
  return dir;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

test('the package root is the repository (lib/native is two levels down) and the addon loads from it', () => {
  expect(packageRoot).toBe(repoRoot);
  const addon = loadAddon() as { encodeNDJSON(json: string): Buffer };
  expect(addon.encodeNDJSON('{"a":1}').toString()).toBe('{"a":1}\n');
});

test('no binary: names the platform, the directory, npm rebuild and pnpm approve-builds; no bundler advice', () => {
  const dir = fakePackage(path.join(work, 'node_modules', 'sse-native'));
  const msg = messageOf(() => loadAddon(dir));
  expect(msg).toContain(`no native binary for ${process.platform}-${process.arch} in ${dir}`);
  expect(msg).toContain(`prebuilds/${process.platform}-${process.arch}/*.node`);
  expect(msg).toContain('`npm rebuild sse-native`');
  expect(msg).toContain('`pnpm approve-builds`');
  expect(msg).not.toContain('build/Debug');
  expect(msg).not.toContain('serverExternalPackages');
});

test('a damaged binary: names the file and the reason', () => {
  const dir = fakePackage(path.join(work, 'broken', 'sse-native'));
  const tuple = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
  fs.mkdirSync(tuple, { recursive: true });
  const file = path.join(tuple, 'sse-native.glibc.node');
  fs.writeFileSync(file, 'not an ELF file');
  const msg = messageOf(() => loadAddon(dir));
  expect(msg).toContain(`could not load the native binary ${file}`);
  expect(msg).toMatch(/invalid ELF header|file too short/);
  expect(msg).toContain('damaged or not a binary for this platform');
  expect(msg).toContain('`npm rebuild sse-native`');
});

test('a binary for another architecture (the cross-compiled arm64 prebuild): says which', () => {
  // dlopen itself only says "cannot open shared object file" here.
  expect(process.arch).toBe('x64'); // prebuilds are made on linux-x64 (scripts/prebuild.js)
  const made = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/prebuild.js'), '--only', 'linux-arm64', '--if-stale'], {
    encoding: 'utf8',
    timeout: 150_000,
  });
  expect({ status: made.status, err: made.status === 0 ? '' : made.stderr }).toEqual({ status: 0, err: '' });
  const foreign = path.join(repoRoot, 'prebuilds', 'linux-arm64', 'sse-native.glibc.node');
  const dir = fakePackage(path.join(work, 'copied', 'sse-native'));
  const tuple = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
  fs.mkdirSync(tuple, { recursive: true });
  fs.copyFileSync(foreign, path.join(tuple, 'sse-native.glibc.node'));
  const msg = messageOf(() => loadAddon(dir));
  expect(msg).toContain(`could not load the native binary ${path.join(tuple, 'sse-native.glibc.node')}`);
  expect(msg).toContain('It was built for arm64, and this process is x64');
}, 180_000);

test('run from a bundle (.next/server): the error says to keep sse-native external', () => {
  // What a bundler does to us: our compiled files end up in its output
  // directory, far from package.json, prebuilds/ and build/.
  const chunk = path.join(work, 'next-app', '.next', 'server', 'chunks', 'dist');
  fs.cpSync(path.join(repoRoot, 'dist'), chunk, { recursive: true });
  fs.mkdirSync(path.join(work, 'next-app', 'node_modules'), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'node_modules', 'node-gyp-build'), path.join(work, 'next-app', 'node_modules', 'node-gyp-build'));
  const r = spawnSync(process.execPath, ['-e', `try { require(${JSON.stringify(chunk)}); } catch (e) { console.log(e.message); }`], {
    encoding: 'utf8',
    env: { ...process.env, SSE_NATIVE_PREBUILD: '' },
  });
  expect(r.stdout).toContain('no native binary for');
  expect(r.stdout).toContain("serverExternalPackages: ['sse-native']");
  expect(r.stdout).toContain(path.join(work, 'next-app', '.next', 'server', 'chunks'));
});

test('no static require of a .node file anywhere in dist/ for a bundler to follow', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (/\.(c|m)?js$/.test(name) && /require\(\s*['"`][^'"`]*\.node['"`]\s*\)/.test(fs.readFileSync(p, 'utf8'))) offenders.push(p);
    }
  };
  walk(path.join(repoRoot, 'dist'));
  expect(offenders).toEqual([]);
});
