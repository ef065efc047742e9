#!/usr/bin/env node
// `npm run prebuilds` and `prepack`: the Node-API binaries that ship inside
// the npm package, in prebuildify's layout, loaded by node-gyp-build. (Not
// named `prebuild`: npm would run that before every `npm run build`.)
//
//   prebuilds/linux-x64/sse-native.glibc.node     host build
//   prebuilds/linux-arm64/sse-native.glibc.node   g++-aarch64-linux-gnu
//
// Each is built once for Node-API 8 (binding.gyp's NAPI_VERSION) and loads on
// every Node release with Node-API >= 8 (Node 12.22+, 14.17+, 16+; we test 20).
// No linux-x64-musl build: Debian's musl-tools has musl-gcc for C only and no
// libstdc++ for musl, so a C++ addon cannot be built for musl here; on Alpine
// the install compiles from source instead (see docs/install.md).
//
// Reproducible: the sources are copied into a fresh staging directory (so
// node-gyp's `rebuild` never touches the checkout's build/), the staging path
// is mapped away with -ffile-prefix-map, binaries are stripped and nothing
// varying (time, host name, path) reaches them. Offline: node-gyp is pointed
// at the local Node headers and never downloads any.
//
// Usage: node scripts/prebuild.js [--only linux-x64,linux-arm64] [--if-stale]
//   --only      build just these targets
//   --if-stale  skip targets whose binary is newer than every native source
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');

/** Targets this machine can build: platform-arch, node-gyp arch, and the compilers to use. */
const kTargets = {
  'linux-x64': { arch: 'x64', host: 'x64', cc: 'gcc', cxx: 'g++', strip: 'strip', pkg: 'build-essential' },
  'linux-arm64': {
    arch: 'arm64',
    host: 'x64',
    cc: 'aarch64-linux-gnu-gcc',
    cxx: 'aarch64-linux-gnu-g++',
    strip: 'aarch64-linux-gnu-strip',
    pkg: 'g++-aarch64-linux-gnu',
  },
};
/** prebuildify 6 names a Node-API build <package>.<libc>.node: no abi tag, so every Node (and Electron) release matches; the glibc tag keeps musl systems from picking it. */
const kFile = 'sse-native.glibc.node';

function fail(message) {
  console.error(`sse-native prebuild: ${message}`);
  process.exit(1);
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** The Node headers to build against, without downloading: npm_config_nodedir or the system's. */
function nodeDir() {
  const given = process.env.npm_config_nodedir;
  if (given) return given;
  const candidates = [path.join(path.dirname(process.execPath), '..'), '/usr', '/usr/local'];
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include/node/node_api.h')) && fs.existsSync(path.join(dir, 'include/node/common.gypi'))) {
      return path.resolve(dir);
    }
  }
  fail(
    'no Node headers found (include/node/node_api.h beside node, in /usr or /usr/local); ' +
      'install the nodejs package that ships them or set npm_config_nodedir to an unpacked node-vX-headers directory',
  );
}

/** npm's own node-gyp (every npm bundles one), or a node-gyp installed beside us. */
function nodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  candidates.push(path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) fail('node-gyp not found (it comes with npm); set npm_config_node_gyp to its bin/node-gyp.js');
  return found;
}

/** True when `binary` is missing or older than binding.gyp or a file under native/. */
function isStale(binary) {
  if (!fs.existsSync(binary)) return true;
  const built = fs.statSync(binary).mtimeMs;
  const newer = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) return fs.readdirSync(p).some((n) => newer(path.join(p, n)));
    return st.mtimeMs > built;
  };
  return newer(path.join(root, 'binding.gyp')) || newer(path.join(root, 'native'));
}

/** A copy of what the from-source build needs, outside the checkout. */
function stage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-native-prebuild-'));
  fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  // binding.gyp runs it to find liburing (the io_uring flush).
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(root, 'scripts/liburing-gyp.js'), path.join(dir, 'scripts/liburing-gyp.js'));
  fs.cpSync(path.join(root, 'native'), path.join(dir, 'native'), {
    recursive: true,
    filter: (src) => !/\/native\/(?:build|out)(?:\/|$)/.test(src),
  });
  // binding.gyp asks node-addon-api for its include dir.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function main() {
  const argv = process.argv.slice(2);
  const onlyAt = argv.indexOf('--only');
  const ifStale = argv.includes('--if-stale');
  const wanted = onlyAt >= 0 ? (argv[onlyAt + 1] || '').split(',').filter(Boolean) : Object.keys(kTargets);
  for (const t of wanted) {
    if (!kTargets[t]) fail(`unknown target ${t}; this script builds ${Object.keys(kTargets).join(', ')}`);
  }
  if (os.platform() !== 'linux' || os.arch() !== 'x64') {
    fail(`prebuilds are made on linux-x64 (this is ${os.platform()}-${os.arch()}); elsewhere use \`npm run build\` for a local binary`);
  }
  const todo = wanted.filter((t) => !ifStale || isStale(path.join(root, 'prebuilds', t, kFile)));
  if (todo.length === 0) return;

  for (const t of todo) {
    const spec = kTargets[t];
    for (const tool of [spec.cc, spec.cxx, spec.strip, 'make', 'python3']) {
      if (!which(tool)) fail(`${tool} not found, needed for ${t}: apt-get install ${tool === 'python3' ? 'python3' : spec.pkg}`);
    }
  }
  const nodedir = nodeDir();
  const gyp = nodeGyp();
  const prebuildify = require.resolve('prebuildify/bin.js');
  const staging = stage();
  try {
    for (const t of todo) {
      const spec = kTargets[t];
      const prefixMap = `-ffile-prefix-map=${staging}=. -ffile-prefix-map=${root}=.`;
      const env = {
        ...process.env,
        npm_config_nodedir: nodedir,
        PREBUILD_NODE_GYP: gyp,
        CC: spec.cc,
        CXX: spec.cxx,
        // Not LINK: gyp links with CXX.target.
        CFLAGS: prefixMap,
        CXXFLAGS: prefixMap,
        LDFLAGS: '-Wl,--build-id=none',
        SOURCE_DATE_EPOCH: '0',
        JOBS: process.env.JOBS || 'max',
      };
      console.log(`sse-native prebuild: ${t} (${spec.cxx})`);
      const r = spawnSync(
        process.execPath,
        [
          prebuildify,
          '--napi',
          '--tag-libc',
          '--strip',
          `--strip-bin=${spec.strip}`,
          `--arch=${spec.arch}`,
          `--target=${process.versions.node}`,
          `--out=${root}`,
          `--cwd=${staging}`,
        ],
        { stdio: 'inherit', env, cwd: staging },
      );
      if (r.status !== 0) fail(`building ${t} failed (exit ${r.status ?? r.signal}); the compiler output is above`);
      const out = path.join(root, 'prebuilds', t, kFile);
      if (!fs.existsSync(out)) fail(`building ${t} left no ${path.relative(root, out)}`);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

main();
