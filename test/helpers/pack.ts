// Shared by the test/70.install.* files: the packed package as a user gets
// it, and a PATH that holds node and sh but no compiler, make or python.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.join(__dirname, '..', '..');
/** npm's CLI, run with this node (never a global shim). */
export const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

/** Runs npm with `args` in `cwd`; never throws, the caller asserts on status and output. */
export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [npmCli, ...args], { cwd, env, encoding: 'utf8', timeout: timeoutMs });
}

/**
 * Builds what `npm pack` ships (dist/ with its ESM entries, the host's
 * prebuild when stale or missing) and packs it into `dest`; returns the
 * tarball's path. Scripts are skipped in the pack itself because prepack
 * would also cross-compile every other target, which these tests don't need.
 */
export function packRepo(dest: string): string {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/prebuild.js'), '--only', 'linux-x64', '--if-stale'], {
    cwd: repoRoot,
    stdio: 'pipe',
    timeout: 150_000,
  });
  const build = npm(['run', 'build:ts'], repoRoot);
  if (build.status !== 0) throw new Error(`npm run build:ts failed:\n${build.stdout}\n${build.stderr}`);
  const r = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dest], repoRoot);
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string }>;
  return path.join(dest, info.filename);
}

/** A directory holding only node and sh, for a PATH without compilers, make or python3. */
export function bareBin(dir: string): string {
  const bin = path.join(dir, 'bare-bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return bin;
}

/** An environment for npm with PATH = `bin` only (npm's own config, like its cache, stays). */
export function bareEnv(bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
  // Nothing from this checkout's npm run (if any) may leak into the app's install.
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  delete env.SSE_NATIVE_PREBUILD;
  return env;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh app with no dependencies but what the test installs. */
export function makeApp(dir: string, name = 'app'): string {
  const app = path.join(dir, name);
  fs.mkdirSync(app, { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return app;
}
