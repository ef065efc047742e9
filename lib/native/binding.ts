// The one place the engine is chosen, and the only file that loads the
// addon. Everything native goes through the object exported here; nothing
// else in lib/ calls `require` on a .node file. At load the addon is given
// the package's error factory (its one throw site makes our TypeError/
// RangeError/SSEError, with codes, in the caller's realm) and exports the
// core's constants, so no enum is copied by hand.
//
// The engine is the addon, or the TypeScript twin (lib/native/js-engine)
// when SSE_NATIVE=js, when the JS entry was imported (package.json's
// browser/worker/edge-light/deno/bun conditions), or when the addon cannot
// load: then one warning says why and how to fix it (SSE_NATIVE=js or
// SSE_NATIVE_QUIET=1 silence it; SSE_NATIVE=native makes the failure throw).
import { makeError } from '../common/errors';
import type { NativeBinding, NativeConstants } from './binding-types';
import { jsPreferred } from './backend-choice';
import { createJsBinding } from './js-engine';

export type * from './binding-types';

/** Which engine serves this process: the C++ addon, or the TypeScript backend. */
export type Backend = 'native' | 'js';

function env(name: string): string {
  const e = typeof process === 'object' && process !== null ? process.env : undefined;
  return (e?.[name] ?? '').trim().toLowerCase();
}

function warnFallback(err: unknown): void {
  const why = String((err as Error)?.message ?? err);
  const text =
    'sse-native: the native addon could not be loaded; using the TypeScript backend ' +
    '(the same API over res.write and web streams, without socket adoption).\n' +
    `${why}\n` +
    '  Set SSE_NATIVE=js to choose the TypeScript backend without this warning (or SSE_NATIVE_QUIET=1), ' +
    'or SSE_NATIVE=native to make this an error.';
  if (typeof process === 'object' && typeof process.emitWarning === 'function') {
    process.emitWarning(text, { code: 'SSE_NATIVE_FALLBACK' });
  } else {
    console.warn(text);
  }
}

function choose(): { binding: NativeBinding; backend: Backend } {
  const want = env('SSE_NATIVE');
  if (want === 'js' || jsPreferred()) return { binding: createJsBinding(), backend: 'js' };
  let addon: NativeBinding;
  try {
    // Required here, not imported: the JS entry never reaches the loader.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadAddon } = require('./load') as typeof import('./load');
    addon = loadAddon() as NativeBinding;
  } catch (err) {
    if (want === 'native') throw err;
    if (env('SSE_NATIVE_QUIET') === '' || env('SSE_NATIVE_QUIET') === '0') warnFallback(err);
    return { binding: createJsBinding(), backend: 'js' };
  }
  addon.setErrorFactory(makeError);
  return { binding: addon, backend: 'native' };
}

const chosen = choose();

/** The engine: the addon's exports, or the TypeScript engine with the same shape. */
export const native: NativeBinding = chosen.binding;

/** 'native' when the C++ addon serves this process, 'js' for the TypeScript backend. */
export const backend: Backend = chosen.backend;

/** The core's constants (exported by the addon at init, or the TypeScript engine's copy). */
export const C: NativeConstants = native.constants;
