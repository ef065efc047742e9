// The TypeScript backend: the engine interface of lib/native/binding-types.ts
// over the TypeScript encoder (lib/common/encoder-ts.ts) and engine
// (./engine.ts). binding.ts uses it when the addon cannot load or
// SSE_NATIVE=js; lib/ above cannot tell the two apart, except that socket
// adoption is unavailable (streams use the res.write and web sinks) and
// broadcasts do not cross threads. The parser is the client's TypeScript
// parser (lib/native/parser.ts picks it).
import { makeError } from '../../common/errors';
import { FrameStatus, frameText, validateFrame, encodeNdjson } from '../../common/encoder-ts';
import type { NativeBinding, NativeParserHandle } from '../binding-types';
import { constants, errName, kENOTSUP } from './constants';
import { Engine } from './engine';
import type { HubMember } from './hub';
import type { Member } from './engine';

const hasBuffer = typeof Buffer === 'function';
let utf8: TextEncoder | undefined;

function toBytes(text: string): Uint8Array {
  return hasBuffer ? Buffer.from(text, 'utf8') : (utf8 ??= new TextEncoder()).encode(text);
}

/** The addon's refusal for a bad field: the same class, code and text (native/core/status.cc). */
function frameError(status: number, what: string | undefined): Error {
  const row = constants.statuses[status === FrameStatus.invalidEvent ? constants.Status.INVALID_EVENT : constants.Status.INVALID_ID];
  return makeError(row.kind, row.code, what === undefined ? row.text : `${what}: ${row.text}`);
}

function frame(
  event: string | undefined,
  data: string | undefined,
  id: string | undefined,
  retry: number | undefined,
  comment: string | undefined,
  what?: string,
): Uint8Array {
  const msg = { event, data, id, retry, comment };
  const st = validateFrame(msg);
  if (st !== FrameStatus.ok) throw frameError(st, what);
  return toBytes(frameText(msg));
}

/** Creates the TypeScript engine for this thread. */
export function createJsBinding(): NativeBinding {
  const engine = new Engine((e, d, i, r, c) => frame(e, d, i, r, c, 'broadcast'));
  let needed = 0;
  const open = (id: number): Member | undefined => {
    const m = engine.get(id);
    return m !== undefined && m.open ? m : undefined;
  };
  const binding: NativeBinding = {
    constants,
    setErrorFactory() {},

    encodeEventInto(pool, offset, event, data, id, retry, comment) {
      const msg = { event, data, id, retry, comment };
      const st = validateFrame(msg);
      if (st !== FrameStatus.ok) throw frameError(st, undefined);
      const text = frameText(msg);
      const room = pool.length - offset;
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (text.length * 3 > room) {
        const bytes = toBytes(text);
        if (bytes.length > room) {
          needed = bytes.length;
          return 0;
        }
        pool.set(bytes, offset);
        return bytes.length;
      }
      if (hasBuffer) return (pool as Buffer).write(text, offset, 'utf8');
      return (utf8 ??= new TextEncoder()).encodeInto(text, pool.subarray(offset)).written;
    },
    lastNeeded: () => needed,
    encodeNDJSON: (json) => {
      const b = encodeNdjson(json);
      return hasBuffer ? Buffer.from(b.buffer, b.byteOffset, b.length) : (b as Buffer);
    },
    NativeParser: class {
      constructor() {
        throw new Error('sse-native: the TypeScript backend parses with lib/client/parser-ts.ts');
      }
    } as unknown as new (maxBufferSize: number, comments: boolean) => NativeParserHandle,

    buildHead() {
      throw makeError('SSEError', 'SSE_ADOPT_FAILED', 'the TypeScript backend cannot adopt sockets');
    },
    open: (options) => engine.open(options),
    openFunction: () => engine.openFunction(),
    adoptSocket: () => kENOTSUP,
    // The core's own listener does not exist here: listen() refuses (as
    // adoptSocket does), and nothing else can have an id to act on.
    listen: () => kENOTSUP,
    listenerAddress: () => undefined,
    closeListener: () => undefined,
    listenerRef: () => undefined,
    listenerStats: () => undefined,
    requestHead: () => undefined,
    acceptRequest: () => constants.Errno.ENOENT,
    respondRequest: () => constants.Errno.ENOENT,
    attach: (id) => engine.get(id)?.attach(),
    ack: (id) => engine.get(id)?.ack(),
    gone: (id, status) => engine.get(id)?.closeWith(false, status),
    send(id, event, data, eventId, retry, comment) {
      const bytes = frame(event, data, eventId, retry, comment);
      const m = open(id);
      return m === undefined ? constants.SendResult.CLOSED : m.send(bytes, true);
    },
    sendBytes(id, bytes) {
      const m = open(id);
      if (m === undefined) return constants.SendResult.CLOSED;
      // A private copy, as the core's sendCopy: the caller may reuse its buffer.
      return m.send(hasBuffer ? Buffer.from(bytes) : bytes.slice(), true);
    },
    flush: (id) => engine.get(id)?.flush(),
    close: (id, graceful) => engine.get(id)?.closeWith(graceful, 0),
    bufferedAmount: (id) => engine.get(id)?.queue.bytes ?? 0,
    closeAll: (graceful) => engine.closeAll(graceful),
    setNotify: (fn) => engine.setNotify(fn),
    setLimits: (limits) => engine.setLimits(limits),
    checkLimits: (address, keys) => engine.checkLimits(address, keys),
    stats: () => engine.stats(),
    memberStats: (id) => engine.memberStats(id),
    errName,

    hubConfigure: (key, maxEvents, maxAgeMs) => engine.hub.configure(key, maxEvents, maxAgeMs),
    hubJoin(key, id, lastEventId) {
      const m = engine.get(id);
      return m === undefined ? constants.Join.CLOSED : engine.hub.join(key, m, lastEventId);
    },
    hubLeave(key, id) {
      const m = engine.get(id);
      return m !== undefined && engine.hub.leave(key, m);
    },
    memberKeyCount: (id) => engine.get(id)?.keys.length ?? 0,
    hubBroadcast(key, event, data, id, retry, comment) {
      const functions: HubMember[] = [];
      const n = engine.hub.broadcast(key, event, data, id, retry, comment, functions);
      if (functions.length === 0) return n;
      const out = new Int32Array(functions.length + 1);
      out[0] = n;
      for (let i = 0; i < functions.length; i++) out[i + 1] = (functions[i] as Member).id;
      return out;
    },
    hubCount: (key) => (key === undefined ? engine.hub.distinctMembers : engine.hub.memberCount(key)),
    hubPressure: (key) => engine.hub.pressured(key),
    hubKeys: () => engine.hub.counts(),
    // One thread's engine: broadcasts do not cross to Workers on this backend.
    setRemote() {},
  };
  return binding;
}
