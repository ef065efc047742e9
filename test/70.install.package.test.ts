// What `npm pack` puts in the tarball: the runtime (dist with ESM entries and
// source maps), the prebuilds, the sources for the from-source fallback, the
// install script, LICENSE and README; nothing of tests, benches or build
// intermediates; and a size budget.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDist, npm, repoRoot } from './helpers/pack';

jest.setTimeout(180_000);

/**
 * The size budget of the packed tarball. Today ~750 KB: two stripped
 * prebuilds (linux-x64 ~450 KB, linux-arm64 ~400 KB; the core's own
 * listener added ~70 KB to each) are most of it. A debug build or a stray
 * directory does not fit.
 */
const kMaxPackedBytes = 850 * 1024;
const kMaxUnpackedBytes = 2.5 * 1024 * 1024;

let files: string[];
let size: number;
let unpackedSize: number;

beforeAll(() => {
  // What prepack makes, for this host at least (arm64 is covered by its own test).
  const made = require('node:child_process').spawnSync(
    process.execPath,
    [path.join(repoRoot, 'scripts/prebuild.js'), '--only', 'linux-x64', '--if-stale'],
    { encoding: 'utf8', timeout: 150_000 },
  );
  if (made.status !== 0) throw new Error(`prebuild failed: ${made.stderr}`);
  ensureDist();
  const r = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], repoRoot);
  if (r.status !== 0) throw new Error(`npm pack --dry-run failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }>; size: number; unpackedSize: number }>;
  files = info.files.map((f) => f.path).sort();
  size = info.size;
  unpackedSize = info.unpackedSize;
});

test('ships the runtime, the ESM entries and their types, source maps, LICENSE and README', () => {
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'docs/install.md',
    'dist/index.js',
    'dist/index.mjs',
    'dist/index.d.ts',
    'dist/index.d.mts',
    'dist/index.js.map',
    'dist/node-client.js',
    'dist/node-client.mjs',
    'dist/client/browser.js',
    'dist/client/browser.mjs',
    'dist/client/browser.d.ts',
    'dist/react/index.js',
    'dist/react/index.mjs',
    'dist/react/index.d.mts',
    'dist/native/load.js',
    'scripts/install.js',
    'scripts/build-addon.js',
    'scripts/liburing-gyp.js', // binding.gyp runs it
  ]) {
    expect({ f, shipped: files.includes(f) }).toEqual({ f, shipped: true });
  }
  // Every .js has its map, and the maps carry their sources (lib/ is not shipped).
  for (const js of files.filter((f) => f.endsWith('.js') && f.startsWith('dist/'))) {
    expect({ js, map: files.includes(`${js}.map`) }).toEqual({ js, map: true });
  }
  const map = JSON.parse(fs.readFileSync(path.join(repoRoot, 'dist/index.js.map'), 'utf8'));
  expect(map.sourcesContent?.[0]).toContain('createSSEStream');
});

test('ships the host prebuild and everything a from-source build needs', () => {
  expect(files).toContain(`prebuilds/linux-x64/sse-native.glibc.node`);
  expect(files).toContain('binding.gyp');
  expect(files).toContain('native/core/sources.gypi');
  // Every source binding.gyp and sources.gypi name is in the tarball.
  const gyp = fs.readFileSync(path.join(repoRoot, 'binding.gyp'), 'utf8') + fs.readFileSync(path.join(repoRoot, 'native/core/sources.gypi'), 'utf8');
  const sources = [...gyp.matchAll(/'(native\/[^']+\.cc)'/g)].map((m) => m[1]);
  expect(sources.length).toBeGreaterThan(5);
  for (const s of sources) expect({ s, shipped: files.includes(s) }).toEqual({ s, shipped: true });
  // And the headers they include.
  for (const h of fs.readdirSync(path.join(repoRoot, 'native/core')).filter((n) => n.endsWith('.h'))) {
    expect(files).toContain(`native/core/${h}`);
  }
});

test('ships no tests, benches, examples, TypeScript sources or build intermediates', () => {
  const banned = files.filter((f) =>
    /^(test|bench|examples|lib|out|build|\.github|node_modules)\/|^native\/.*\/(test|bench|fuzz)\/|\.o$|\.tgz$|^tsconfig|^jest\.config|^CMakeLists|\.test\./.test(
      f,
    ),
  );
  expect(banned).toEqual([]);
  // No native/ file other than sources and the gyp include.
  expect(files.filter((f) => f.startsWith('native/') && !/\.(cc|h|gypi)$/.test(f))).toEqual([]);
});

test(`stays under the size budget (${kMaxPackedBytes / 1024} KB packed, ${kMaxUnpackedBytes / 1024 / 1024} MB unpacked)`, () => {
  expect(size).toBeLessThan(kMaxPackedBytes);
  expect(unpackedSize).toBeLessThan(kMaxUnpackedBytes);
});

test('package.json: license, repository, engines, Node-API version, no os/cpu that would block the source fallback', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  expect(pkg.license).toBe('MIT');
  expect(fs.readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8')).toContain('sse-native contributors');
  expect(pkg.repository?.url).toMatch(/^git\+https:\/\//);
  expect(pkg.engines?.node).toBeDefined();
  expect(pkg.binary?.napi_versions).toEqual([8]);
  expect(fs.readFileSync(path.join(repoRoot, 'binding.gyp'), 'utf8')).toContain("'NAPI_VERSION=8'");
  expect(pkg.os).toBeUndefined();
  expect(pkg.cpu).toBeUndefined();
  expect(pkg.dependencies['node-gyp-build']).toBeDefined();
  // No `prepare`: it would run, without devDependencies, on git installs.
  expect(pkg.scripts.prepare).toBeUndefined();
  expect(pkg.scripts.install).toBe('node scripts/install.js');
});

test('exports: browser, worker, edge-light, deno and bun resolve the root to the TypeScript-backend entry, which never loads the addon', () => {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  for (const f of ['dist/index-js.js', 'dist/index-js.mjs', 'dist/index-js.d.ts', 'dist/index-js.d.mts']) {
    expect({ f, shipped: files.includes(f) }).toEqual({ f, shipped: true });
  }
  const env = { ...process.env };
  delete env.SSE_NATIVE;
  for (const condition of ['browser', 'worker', 'edge-light', 'deno', 'bun']) {
    // Ahead of react-server/webpack/import/require, with types for both module kinds.
    expect(Object.keys(pkg.exports['.']).indexOf(condition)).toBeLessThan(Object.keys(pkg.exports['.']).indexOf('react-server'));
    expect(pkg.exports['.'][condition]).toEqual({
      import: { types: './dist/index-js.d.mts', default: './dist/index-js.mjs' },
      require: { types: './dist/index-js.d.ts', default: './dist/index-js.js' },
    });
    // The package resolved by name (self-reference) under that condition, in a fresh process.
    const probe =
      "const m = require('sse-native'); const loaded = Object.keys(require.cache);" +
      "console.log(JSON.stringify({ backend: m.backend, entry: require.resolve('sse-native'), loader: loaded.some((f) => /native[\\\\/]load\\.js$|\\.node$/.test(f)), frame: m.encodeEvent({ data: 'x' }).toString() }))";
    const r = spawnSync(process.execPath, [`--conditions=${condition}`, '-e', probe], { cwd: repoRoot, env, encoding: 'utf8', timeout: 30_000 });
    expect({ condition, status: r.status, err: r.stderr }).toEqual({ condition, status: 0, err: '' });
    expect(JSON.parse(r.stdout)).toEqual({ backend: 'js', entry: path.join(repoRoot, 'dist', 'index-js.js'), loader: false, frame: 'data: x\n\n' });
  }
  // Without a condition: the addon.
  const plain = spawnSync(process.execPath, ['-p', "require('sse-native').backend"], { cwd: repoRoot, env, encoding: 'utf8', timeout: 30_000 });
  expect(plain.stdout.trim()).toBe('native');
});
