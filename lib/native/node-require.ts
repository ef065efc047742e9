// Node's own `require`, taken at run time so that bundlers (webpack, Turbopack
// in Next.js) neither follow nor rewrite it, and the package's root directory
// found from it. Two reasons: a bundler cannot place a `.node` file in a chunk
// (the build fails), and the package's state (the addon's registry, the
// stream table) must exist once per process, not once per bundled copy.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

declare const __non_webpack_require__: NodeRequire | undefined;

/** Node's require for this module: webpack's escape hatch when bundled by webpack, else the module's own (which a direct eval keeps out of Turbopack's reach). */
export function nodeRequire(): NodeRequire {
  if (typeof __non_webpack_require__ === 'function') return __non_webpack_require__;
  // A direct eval: bundlers leave it alone and it still sees this module's
  // `require` (Node's, or in a Turbopack chunk the chunk file's).
  // eslint-disable-next-line no-eval
  return eval('require') as NodeRequire;
}

const kName = 'sse-native';

function isOurs(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === kName;
  } catch {
    return false;
  }
}

/**
 * The installed package's directory (the one holding its package.json).
 * Unbundled, it is two levels above dist/native/; inside a bundle
 * `__dirname` is made up, so Node's resolution from the running chunk
 * (the app's node_modules) or from the working directory finds it.
 */
export function packageRoot(): string {
  const here = path.resolve(__dirname, '..', '..');
  if (isOurs(here)) return here;
  const tried: string[] = [here];
  for (const req of [nodeRequire(), createRequire(path.join(process.cwd(), 'index.js'))]) {
    try {
      return path.dirname(req.resolve(`${kName}/package.json`));
    } catch (err) {
      tried.push(String((err as Error).message).split('\n')[0]);
    }
  }
  throw new Error(
    `sse-native: cannot find the installed package (is \`sse-native\` in your app's dependencies? run \`npm install sse-native\`). Tried: ${tried.join('; ')}`,
  );
}
