#!/usr/bin/env node
// Builds the addon with node-gyp. Offline by design: when npm has not been told
// where Node's headers are and the system ships them in /usr/include/node, point
// node-gyp there instead of letting it download a tarball.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const args = ['rebuild'];
const env = { ...process.env };
if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) {
  env.npm_config_nodedir = '/usr';
}
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  // npm bundles node-gyp; npm exposes its path to install scripts.
  gyp = env.npm_config_node_gyp || path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
}
const r = spawnSync(process.execPath, [gyp, ...args, '-j', 'max'], { stdio: 'inherit', env, cwd: path.join(__dirname, '..') });
process.exit(r.status ?? 1);
