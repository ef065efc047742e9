#!/usr/bin/env node
// The package's `install` script. Never fails an app's install because no
// compiler is there:
//   1. a binary that loads already fits (a prebuild in prebuilds/<platform>-<arch>/
//      or an earlier source build): done, nothing compiled;
//   2. otherwise compile from the shipped sources with node-gyp (python3, make,
//      a C++17 compiler);
//   3. if that fails too: one warning, exit 0. sse-native then runs on its
//      TypeScript backend and warns once when loaded (see docs/install.md).
// In a checkout (lib/ present) or with --build-from-source it always compiles,
// and a failed compile fails the install: contributors need the addon. A
// checkout also gets dist/ (tsc + ESM entries) here, in place of a `prepare`
// script, which would also run, without devDependencies, for git installs.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const checkout = fs.existsSync(path.join(root, 'lib', 'native', 'binding.ts'));
const fromSource = checkout || /^(true|1)$/.test(process.env.npm_config_build_from_source || '');

/** True when node-gyp-build finds a binary here and Node can load it (in a child, so nothing stays loaded). */
function prebuiltLoads() {
  const probe = "require(require('node-gyp-build').resolve(process.argv[1]))";
  const r = spawnSync(process.execPath, ['-e', probe, root], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  return { ok: r.status === 0, why: (r.stderr || '').trim().split('\n').find((l) => /Error/.test(l)) || '' };
}

/** In a checkout: lib/ -> dist/ with the devDependencies npm just installed. */
function buildDist() {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) return 0; // e.g. --omit=dev: nothing to compile with, dist/ is built by `npm run build:ts`
  const steps = [[tsc, '-p', 'tsconfig.json'], [path.join(__dirname, 'esm-entries.js')]];
  for (const args of steps) {
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) return 1;
  }
  return 0;
}

function main() {
  if (!fromSource) {
    const probe = prebuiltLoads();
    if (probe.ok) return 0;
    if (probe.why) console.log(`sse-native: no prebuilt binary loads here (${probe.why}); compiling from source`);
  }
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build-addon.js')], { cwd: root, stdio: 'inherit' });
  if (r.status === 0) return checkout ? buildDist() : 0;
  if (checkout) {
    console.error('sse-native: compiling the addon failed (output above); a checkout needs python3, make and g++ (scripts/ensure-deps.sh)');
    return 1;
  }
  console.warn(
    [
      '',
      `sse-native: WARNING: no prebuilt binary fits ${process.platform}-${process.arch} and compiling from source failed`,
      '  (output above), so the native backend is unavailable. The install itself succeeded: sse-native runs on',
      '  its TypeScript backend (the same API over res.write and web streams; it warns once at load, SSE_NATIVE=js silences it).',
      '  To get the native backend: install python3, make and a C++17 compiler, then `npm rebuild sse-native`.',
      '  See node_modules/sse-native/docs/install.md.',
      '',
    ].join('\n'),
  );
  return 0;
}

process.exitCode = main();
