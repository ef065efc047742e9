#!/usr/bin/env node
// lib/ is built in floors (docs/architecture.md): a module imports only from
// its own floor or the ones below, and nothing imports in a circle. This
// check fails `npm test` on any import cycle or upward import in lib/.
'use strict';
const path = require('node:path');
const madge = require('madge');

// Lowest first. Top-level files (index.ts, node-client.ts, external.ts, ...)
// are the top floor. client/ and react/ sit beside native/ and must never
// reach the addon.
const FLOORS = {
  common: 0,
  native: 1,
  client: 1,
  stream: 2,
  hub: 3,
  adapters: 4,
  react: 2,
  redis: 5,
};
const TOP = 9;
const ADDON_FREE = new Set(['common', 'client', 'react']);

function floorOf(file) {
  const dir = file.includes('/') ? file.split('/')[0] : '';
  return dir === '' ? { name: '(top)', level: TOP } : { name: dir, level: FLOORS[dir] ?? TOP };
}

(async () => {
  const root = path.join(__dirname, '..', 'lib');
  const res = await madge(root, {
    fileExtensions: ['ts'],
    tsConfig: path.join(__dirname, '..', 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false } },
  });
  const problems = [];
  for (const cycle of res.circular()) problems.push(`import cycle: ${cycle.join(' -> ')}`);
  const graph = res.obj();
  for (const [from, deps] of Object.entries(graph)) {
    const f = floorOf(from);
    for (const to of deps) {
      const t = floorOf(to);
      if (t.level > f.level) problems.push(`upward import: ${from} (${f.name}) -> ${to} (${t.name})`);
      if (ADDON_FREE.has(f.name) && (t.name === 'native' || t.name === 'stream' || t.name === 'hub' || t.name === 'adapters')) {
        problems.push(`${f.name}/ must not load the addon: ${from} -> ${to}`);
      }
    }
  }
  const files = Object.keys(graph).length;
  if (problems.length > 0) {
    for (const p of problems) console.error(`  ${p}`);
    console.error(`floors: ${problems.length} problem(s) in ${files} modules`);
    process.exit(1);
  }
  console.log(`floors: ${files} modules, no cycle, no upward import`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
