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
  ensureDist();
  const r = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dest], repoRoot);
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string }>;
  return path.join(dest, info.filename);
}

/** Newest mtime of the files under `dir` whose names match `re`. */
function newest(dir: string, re: RegExp): number {
  let t = 0;
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    if (st.isDirectory()) t = Math.max(t, newest(p, re));
    else if (re.test(name)) t = Math.max(t, st.mtimeMs);
  }
  return t;
}

/**
 * Makes dist/ current (tsc, then the ESM entries) only when lib/ is newer:
 * other test files load dist/ while these run, and a rewrite under their
 * feet would make them flaky. scripts/test-all.sh builds it before Jest.
 */
export function ensureDist(): void {
  const dist = path.join(repoRoot, 'dist');
  const index = path.join(dist, 'index.js');
  const mjs = path.join(dist, 'index.mjs');
  const libNewer = !fs.existsSync(index) || newest(path.join(repoRoot, 'lib'), /\.ts$/) > fs.statSync(index).mtimeMs;
  const script = libNewer ? ['run', 'build:ts'] : !fs.existsSync(mjs) || fs.statSync(mjs).mtimeMs < fs.statSync(index).mtimeMs ? ['run', 'build:esm'] : undefined;
  if (script === undefined) return;
  const r = npm(script, repoRoot);
  if (r.status !== 0) throw new Error(`npm ${script.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
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
  // The backend is the app's default unless a test sets it (the Jest projects set it for themselves).
  delete env.SSE_NATIVE;
  delete env.SSE_NATIVE_QUIET;
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
