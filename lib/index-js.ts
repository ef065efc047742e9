// The root entry for runtimes that cannot load a Node addon (package.json's
// browser, worker, edge-light, deno and bun conditions): the same API as
// lib/index.ts on the TypeScript engine, and the addon loader is never
// reached. Types are index.ts's.
import './native/prefer-js';

export * from './index';
