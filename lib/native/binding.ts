// The only file that loads the addon. Everything native goes through the
// object exported here; nothing else in lib/ calls `require` on a .node file.
import * as path from 'node:path';
import { nodeRequire, packageRoot } from './node-require';

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

  // The connection engine (native/addon/engine_binding.cc).
  /** The response head bytes, or [HeadStatus, index of the bad header]. */
  buildHead(status: number, reason: string, names: string[], values: string[]): Buffer | [number, number];
  /** A connection id (>= 0) or a negative libuv error code. */
  adopt(
    fd: number,
    head: Uint8Array,
    highWaterMark: number,
    maxBuffered: number,
    policy: number,
    heartbeatMs: number,
    idleTimeoutMs: number,
    maxDurationMs: number,
  ): number;
  /** SendResult (0..3) or -FrameStatus. */
  send(
    id: number,
    event: string | undefined,
    data: string | undefined,
    eventId: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
  ): number;
  sendBytes(id: number, bytes: Uint8Array): number;
  flush(id: number): void;
  close(id: number, graceful: boolean): void;
  bufferedAmount(id: number): number;
  closeAll(graceful: boolean): void;
  /** fn gets [id, kind (0 drain, 1 close), status] * n once per loop turn. */
  setNotify(fn: (records: Int32Array, n: number) => void): void;
  stats(): EngineStats;
  errName(code: number): string;

  // The hub (native/addon/hub_binding.cc): keys of adopted connections.
  hubConfigure(key: string, maxEvents: number, maxAgeMs: number): void;
  /** Replayed frames (>= 0), or -1 already a member, -2 closed, -3 joined after the sse-gap event. */
  hubJoin(key: string, id: number, lastEventId: string | undefined): number;
  hubLeave(key: string, id: number): boolean;
  /** -FrameStatus on a bad field; else adopted members offered; the frame is left in `lastFrame` when asked. */
  hubBroadcast(
    key: string,
    wantFrame: boolean,
    event: string | undefined,
    data: string | undefined,
    id: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
  ): number;
  lastFrame: Buffer | undefined;
  /** [gap, ...frames after lastEventId (or the sse-gap event)] */
  hubReplay(key: string, lastEventId: string): [boolean, ...Buffer[]];
  /** fn gets broadcasts published on other threads, after the core sent them to adopted members. */
  setRemote(
    fn: (key: string, frame: Buffer, event: string | undefined, data: string | undefined, id: string | undefined, retry: number | undefined) => void,
  ): void;
}

export interface EngineStats {
  connectionsOpen: number;
  connectionsAdopted: number;
  bytesWritten: number;
  heartbeatsSent: number;
  drops: number;
  slowConsumerCloses: number;
  tryWrites: number;
  queuedWrites: number;
  notificationBatches: number;
  eventsSent: number;
  broadcasts: number;
  replayedEvents: number;
  replayGaps: number;
}

/** A core parser: feed() returns the text of the records it wrote to `records`. */
export interface NativeParserHandle {
  feed(chunk: string | Uint8Array): string;
  reset(consume: boolean): string;
  readonly records: Int32Array;
}

function load(): NativeBinding {
  // Through Node's own require from the package root, never a static
  // require of the .node file: bundlers cannot place one in a chunk.
  const root = packageRoot();
  const req = nodeRequire();
  const candidates = [
    // Spelt with __dirname and literals so that file tracers (Next.js's
    // `output: 'standalone'`, @vercel/nft) copy the binary along. Inside a
    // bundle __dirname is made up and this one is simply not found.
    path.join(__dirname, '..', '..', 'build', 'Release', 'sse_native.node'),
    path.join(root, 'build', 'Release', 'sse_native.node'),
    path.join(root, 'build', 'Debug', 'sse_native.node'),
  ];
  let lastError: unknown;
  for (const file of candidates) {
    try {
      return req(file) as NativeBinding;
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') break;
    }
  }
  throw new Error(
    `sse-native: the native addon is not built in ${root} (run \`npm rebuild sse-native\`; with pnpm, allow its build script: \`pnpm approve-builds\`): ${String(lastError)}`,
  );
}

export const native: NativeBinding = load();
