// Terminating a Worker while it broadcasts (to a key with a function
// member) and feeds a parser in a tight loop must not take the process down
// (issue 11 #1: "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw",
// then a segfault writing an array that could not be made). Run in a child
// process, so an abort fails this test instead of killing Jest's worker.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const DIST = path.join(__dirname, '..', 'dist', 'index.js');

test('30 Workers terminated mid-broadcast and mid-feed: the process survives and exits 0', () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    const src = \`
      const { broadcast, createParser, registerConnection } = require(\${JSON.stringify(${JSON.stringify(DIST)})});
      const { parentPort } = require('node:worker_threads');
      registerConnection('k', () => {});
      const p = createParser({ onEvent() {} });
      parentPort.postMessage('ready');
      for (;;) { broadcast('k', 'e', { x: 1 }); p.feed('data: hello\\\\n\\\\n'); }
    \`;
    let n = 0;
    function round() {
      if (n++ >= 30) { console.log('survived'); process.exit(0); }
      const w = new Worker(src, { eval: true });
      w.once('message', () => setTimeout(() => w.terminate().then(round), 1 + (n % 9)));
    }
    round();
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 90_000 });
  expect(r.stderr).not.toMatch(/FATAL ERROR/);
  expect(r.signal).toBeNull();
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('survived');
}, 120_000);
