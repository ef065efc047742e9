// Finds and loads the compiled addon, one way: node-gyp-build over the
// package's own directory (build/Release from a source build first, then
// prebuilds/<platform>-<arch>/ shipped in the npm package). binding.ts calls
// this and is the only caller; nothing here knows the addon's shape.
//
// Bundlers: there is no static require of a .node file for webpack or
// Turbopack to follow. The path is computed at run time and loaded with the
// real Node require (webpack's __non_webpack_require__ when bundled), so a
// bundled copy fails with an error that says to keep the package external.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeRequire, packageRoot as findPackageRoot } from './node-require';

declare const __non_webpack_require__: NodeJS.Require | undefined;

/** Where the package's own files are: lib/native/ and dist/native/ are two levels below it. */
export const packageRoot: string = path.join(__dirname, '..', '..');

/** The environment variable that, when set, names a directory holding an alternative build (node-gyp-build's <NAME>_PREBUILD). */
const kPrebuildEnv = 'SSE_NATIVE_PREBUILD';

/** True when `dir` looks like a bundler's output rather than the installed package. */
function looksBundled(dir: string): boolean {
  if (typeof __non_webpack_require__ === 'function' || /[\\/]\.next[\\/]/.test(dir)) return true;
  // Installed or checked out, the package's own package.json is there.
  try {
    return (nodeRequire()(path.join(dir, 'package.json')) as { name?: string }).name !== 'sse-native';
  } catch {
    return true;
  }
}

/** The architecture an ELF file was built for (Node's names), or undefined when it is not ELF or not known. */
function elfMachine(file: string): string | undefined {
  try {
    const head = Buffer.alloc(20);
    const fd = fs.openSync(file, 'r');
    try {
      if (fs.readSync(fd, head, 0, 20, 0) < 20) return undefined;
    } finally {
      fs.closeSync(fd);
    }
    if (head.readUInt32BE(0) !== 0x7f454c46) return undefined; // "\x7fELF"
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    return ({ 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64', 0xf3: 'riscv64', 0x15: 'ppc64', 0x16: 's390x' } as Record<number, string>)[machine];
  } catch {
    return undefined;
  }
}

/** The advice that fits how the load failed: rebuild, approve the build script, or un-bundle. */
function advice(dir: string, bundledAt?: string): string {
  const lines = [
    '  To fix it:',
    '  - reinstall so the install script can pick a prebuilt binary or compile one: `npm rebuild sse-native`',
    '    (compiling needs python3, make and a C++17 compiler; see docs/install.md);',
    '  - with pnpm 10+, which skips install scripts, run `pnpm approve-builds` (pick sse-native) and reinstall;',
    '    not needed when a prebuilt binary fits this platform.',
  ];
  if (bundledAt !== undefined || looksBundled(dir)) {
    lines.push(
      `  - this code seems to run from a bundle (${bundledAt ?? dir}): keep sse-native out of it, e.g. in Next.js`,
      "    `serverExternalPackages: ['sse-native']` in next.config, or your bundler's `externals`.",
    );
  }
  return lines.join('\n');
}

/**
 * Loads the addon from the package directory (or `dir`) and returns its
 * exports; throws an Error naming the file tried, why it failed and the fix.
 * Each call goes through Node's module cache, so the addon initialises once.
 */
export function loadAddon(dir?: string): unknown {
  // Inside a bundle __dirname is made up (Next.js: /ROOT/...): the installed
  // package is found through Node's resolution then.
  const bundledAt = dir === undefined && looksBundled(packageRoot) ? packageRoot : undefined;
  if (dir === undefined) {
    try {
      dir = bundledAt !== undefined ? findPackageRoot() : packageRoot;
    } catch {
      dir = packageRoot;
    }
  }
  const req = nodeRequire();
  let file: string;
  try {
    // node-gyp-build is plain JS: a bundler may follow this require safely.
    const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    file = gypBuild.resolve(dir);
  } catch (err) {
    const why = String((err as Error).message ?? err).trim();
    const override = process.env[kPrebuildEnv] ? ` (${kPrebuildEnv}=${process.env[kPrebuildEnv]})` : '';
    throw new Error(
      `sse-native: no native binary for ${process.platform}-${process.arch} in ${dir}${override}: ` +
        `neither build/Release/*.node (a source build) nor prebuilds/${process.platform}-${process.arch}/*.node fits.\n` +
        `  node-gyp-build said: ${why}\n${advice(dir, bundledAt)}`,
    );
  }
  try {
    return req(file);
  } catch (err) {
    // dlopen's text repeats the path; keep the reason.
    const why = String((err as Error).message ?? err)
      .split('\n')[0]
      .replace(`${file}: `, '');
    const built = elfMachine(file);
    const hint =
      built !== undefined && built !== process.arch
        ? `\n  It was built for ${built}, and this process is ${process.arch} (e.g. node_modules copied between machines); reinstall on this one.`
        : /GLIBC|GLIBCXX|CXXABI/.test(why)
          ? "\n  This prebuilt binary needs a newer glibc/libstdc++ than this system has (glibc 2.28 and GCC 11's libstdc++); " +
            '`npm rebuild sse-native --build-from-source` compiles one for this system.'
          : /invalid ELF header|file too short|wrong ELF class/i.test(why)
            ? '\n  The file is damaged or not a binary for this platform; reinstall.'
            : '';
    throw new Error(`sse-native: could not load the native binary ${file}: ${why}${hint}\n${advice(dir)}`);
  }
}
