// The adopted sink: the core owns the socket; this object is a handle (an id)
// plus the dispatch of the core's per-turn notifications.
import { frameError, type MessageArgs } from '../../native/encoder';
import { native } from '../../native/binding';
import { SendResult, type Sink, type SinkEvents, type SinkLimits } from './sink';

const NOTIFY_DRAIN = 0;
const NOTIFY_CLOSE = 1;
const UV_EOF = -4095;

const live = new Map<number, NativeSink>();
let hooked = false;

// One call per loop turn for every drain and close of that turn. A listener
// that throws does not stop the others; the first error is rethrown after
// the batch so it still reaches 'uncaughtException'.
function onNotify(records: Int32Array, n: number): void {
  let firstError: unknown;
  let failed = false;
  for (let i = 0; i < n; i++) {
    const id = records[i * 3];
    const kind = records[i * 3 + 1];
    const status = records[i * 3 + 2];
    const sink = live.get(id);
    if (sink === undefined) continue;
    try {
      if (kind === NOTIFY_CLOSE) {
        live.delete(id);
        sink.closedByCore(status);
      } else if (kind === NOTIFY_DRAIN) {
        sink.events.onDrain();
      }
    } catch (err) {
      if (!failed) {
        failed = true;
        firstError = err;
      }
    }
  }
  if (failed) throw firstError;
}

/** An error for a libuv status code, e.g. ECONNRESET. */
export function uvError(status: number, what: string): Error {
  const name = native.errName(status);
  const err = new Error(`${what}: ${name}`) as NodeJS.ErrnoException;
  err.code = name;
  err.errno = status;
  return err;
}

export class NativeSink implements Sink {
  readonly kind = 'adopted' as const;
  private closing = false;

  private constructor(
    /** @internal The core's id of the connection (hub membership). */
    readonly id: number,
    readonly events: SinkEvents,
  ) {}

  /**
   * Hands `fd` (Node's socket, which the caller destroys right after) and the
   * response head to the core. Returns the sink, or an Error if the core
   * could not adopt the socket (nothing was written then).
   */
  static adopt(fd: number, head: Uint8Array, limits: SinkLimits, events: SinkEvents): NativeSink | Error {
    if (!hooked) {
      native.setNotify(onNotify);
      hooked = true;
    }
    const id = native.adopt(
      fd,
      head,
      limits.highWaterMark,
      limits.maxBuffered,
      limits.onSlowConsumer === 'drop' ? 1 : 0,
      limits.heartbeatMs,
      limits.idleTimeoutMs,
      limits.maxDurationMs,
    );
    if (id < 0) return uvError(id, 'sse-native: cannot adopt the socket');
    const sink = new NativeSink(id, events);
    live.set(id, sink);
    return sink;
  }

  send(args: MessageArgs): SendResult {
    const r = native.send(this.id, args[0], args[1], args[2], args[3], args[4]);
    if (r < 0) throw frameError(-r);
    return r;
  }

  sendBytes(bytes: Uint8Array): SendResult {
    return native.sendBytes(this.id, bytes);
  }

  flush(): void {
    native.flush(this.id);
  }

  close(graceful: boolean): void {
    if (this.closing) return;
    this.closing = true;
    native.close(this.id, graceful);
  }

  bufferedAmount(): number {
    return native.bufferedAmount(this.id);
  }

  /** @internal From the notification hook: the core closed and freed the connection. */
  closedByCore(status: number): void {
    this.closing = true;
    // 0: our own graceful close finished. EOF: the client left normally.
    const reason = status === 0 ? undefined : status === UV_EOF ? new Error('client disconnected') : uvError(status, 'connection closed');
    this.events.onClose(reason);
  }
}

/** Number of adopted connections this thread's JS still tracks. */
export function adoptedCount(): number {
  return live.size;
}

/** Closes every adopted connection of this thread (graceful: flush first). */
export function closeAllAdopted(graceful: boolean): void {
  native.closeAll(graceful);
}
