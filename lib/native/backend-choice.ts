// Which engine binding.ts picks, asked for before it loads: the JS entry
// (lib/index-js.ts, for runtimes that cannot load an addon) sets it first.
let js = false;

/** Makes binding.ts use the TypeScript engine without trying the addon. */
export function preferJs(): void {
  js = true;
}

/** True once preferJs() was called. */
export function jsPreferred(): boolean {
  return js;
}
