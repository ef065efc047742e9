// The entry bundlers get for `sse-native` (package.json `exports`: the
// `react-server` condition, which Next.js route handlers resolve with under
// webpack and Turbopack, and `webpack`). It loads the real entry with Node's
// own require at run time, so:
// - no bundler meets the native addon (a `.node` file cannot go in a chunk);
// - every route, layer and chunk of the app shares one copy of the package,
//   as they share one addon: a broadcast from one route reaches the streams
//   opened by another;
// - `sse-native/react` can stay bundled with the app's own React, which
//   `serverExternalPackages: ['sse-native']` would prevent (it externalizes
//   every subpath and so loads a second React during server rendering).
import * as path from 'node:path';
import { nodeRequire, packageRoot } from './native/node-require';
import type * as Api from './index';

const api: typeof Api = nodeRequire()(path.join(packageRoot(), 'dist', 'index.js')) as typeof Api;
export = api;
