// The only file that loads the addon. Everything native goes through the
// object exported here; nothing else in lib/ calls `require` on a .node file.

/** Shape of the compiled addon (native/addon). Private to the package. */
export interface NativeBinding {
  /** Bytes written (> 0), 0 if it does not fit (see lastNeeded), or -FrameStatus. */
  encodeEventInto(
    pool: Uint8Array,
    offset: number,
    event: string | undefined,
    data: string | undefined,
    id: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
  ): number;
  lastNeeded(): number;
  encodeNDJSON(json: string): Buffer;
  NativeParser: new (maxBufferSize: number) => NativeParserHandle;
}

/** A core parser: feed() returns the text of the records it wrote to `records`. */
export interface NativeParserHandle {
  feed(chunk: string | Uint8Array): string;
  reset(consume: boolean): string;
  readonly records: Int32Array;
}

function load(): NativeBinding {
  const candidates = ['../build/Release/sse_native.node', '../build/Debug/sse_native.node'];
  let lastError: unknown;
  for (const path of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      return require(path) as NativeBinding;
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') break;
    }
  }
  throw new Error(
    `sse-native: the native addon is not built (run \`npm install\` or \`npm run build\`): ${String(lastError)}`,
  );
}

export const native: NativeBinding = load();
