// Nothing the addon allocates for an environment outlives it: Node started
// under valgrind loads the package on the main thread and in two Workers
// (each an environment of its own, with its own instance data), throws one
// package error from each, and exits; valgrind must find no block that is
// definitely lost with an addon frame in its stack. (The error factory's
// napi reference was never deleted: 40 bytes lost per environment.)
// scripts/leak-check.sh runs the whole Node-level churn the same way.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist', 'index.js');
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;

// One definitely-lost record per block of the log, with its stack.
function ourLosses(log: string): string[] {
  return log
    .split(/\n==\d+== \n/)
    .filter((b) => /are definitely lost/.test(b) && /sse_native\.node/.test(b))
    .map((b) => b.replace(/==\d+== /g, ''));
}

(hasValgrind ? test : test.skip)(
  'main thread + 2 Workers load the addon and exit: valgrind finds nothing definitely lost by the addon',
  async () => {
    const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sse-leak-')), 'valgrind.log');
    const script = `
      const { Worker } = require('node:worker_threads');
      const dist = ${JSON.stringify(DIST)};
      const touch = 'const sse = require(' + JSON.stringify(dist) + '); try { sse.createParser({}).feed(1); } catch {} sse.broadcast("k", { data: "x" });';
      eval(touch);
      let left = 2;
      for (let i = 0; i < 2; i++) new Worker(touch, { eval: true }).on('exit', (c) => { if (c !== 0) process.exitCode = 1; if (--left === 0) console.log('done'); });
    `;
    const child = spawn(
      'valgrind',
      ['--leak-check=full', '--show-leak-kinds=definite', '--num-callers=40', `--log-file=${logFile}`, process.execPath, '-e', script],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    clearTimeout(timer);
    const log = fs.readFileSync(logFile, 'utf8');
    expect(out).toContain('done');
    expect(code).toBe(0);
    expect(log).toMatch(/LEAK SUMMARY|All heap blocks were freed/);
    expect(ourLosses(log)).toEqual([]);
  },
  300_000,
);
