// SSEStream: one Server-Sent Events response, whatever it writes to. Every
// stream is one member of the core (native/core/io/connection.h): its queue,
// backpressure, slow-consumer policy, heartbeats and timeouts live there,
// for an adopted socket and for a JS sink alike. This object is a handle
// (the member id) plus the dispatch of the core's per-turn notifications.
import { EventEmitter } from 'node:events';
import { SSEError, argTypeError, argValueError } from '../common/errors';
import { C, native } from '../native/binding';
import { encodeNDJSON, messageArgs, type EventMap, type MessageArgs, type MessageOf, type SSEMessage } from '../native/encoder';
import type { SinkLimits } from './options';
import type { Sink, SinkKind } from './sink';
import { pipe, type PipeOptions, type PipeResult } from './pipe';
import { forward, type ForwardOptions, type ForwardResult, type Upstream } from './forward';
import type { StreamSource } from './source';
import { checkBytes, checkEventSize, effectiveMaxEventBytes } from './event-size';

// Open streams of this thread by member id: a handle table (the core holds
// membership), for the notifications and closeAll().
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any event map
const streams = new Map<number, SSEStream<any>>();
// The member id of a stream that never opened one: no live id is this large.
const kNoMember = 0xffffffff;
let hooked = false;

/** Figures of one stream, kept by the core. */
export interface StreamStats {
  /** Event frames queued for this client (its own sends and broadcasts). */
  events: number;
  /** Bytes the kernel (or the JS sink) took. */
  bytes: number;
  /** Milliseconds from the stream opening to its first event, or undefined before it. */
  timeToFirstEventMs: number | undefined;
  /** Milliseconds the stream has been (or was) open. */
  durationMs: number;
  /** Why it ended: undefined while open, 'closed' for close()/closeAll(), else closeReason's code. */
  endedBy: string | undefined;
}

/**
 * A live SSE response; `E` (optional) types its events: with
 * `SSEStream<{ progress: { pct: number } }>`, send() takes only
 * `{ event: 'progress', data: { pct } }`. Events: 'close' (once, when the client left or the
 * stream closed; `signal` is aborted first) and 'drain' (send() may be
 * called again after it returned false).
 */
export class SSEStream<E extends EventMap = EventMap> extends EventEmitter {
  /** The Last-Event-ID the client sent (header, or the `lastEventId` query parameter). */
  readonly lastEventId: string | undefined;
  /** Why the stream closed: undefined after close(), an SSEError (with a `code`) when the client left or a limit closed it. */
  closeReason: Error | undefined;

  // Made on first use: an AbortSignal costs about 800 bytes of heap, which
  // an idle stream whose handler never asked for it should not pay.
  private controller: AbortController | undefined;
  private sink: Sink | undefined;
  private kind: SinkKind = 'pending';
  private closeRequested = false;
  private isClosed = false;
  private rawDecoder: TextDecoder | undefined;
  private startNow: (() => void) | undefined;
  private finalStats: StreamStats | undefined;
  /** @internal format: 'ndjson' (one JSON value a line, no SSE fields). */
  readonly ndjson: boolean;
  private readonly highWaterMark: number;
  private readonly maxEventBytes: number | undefined;
  /** @internal The core's member id. */
  readonly memberId: number;

  /**
   * @internal Use createSSEStream(). Opens a held member in the core: sends
   * are queued there until a sink is attached or the socket adopted.
   * `limits` null: a request refused before any stream existed; no member
   * is opened (nothing counted in the core's figures), and the caller
   * closes it at once (closeNow).
   */
  constructor(lastEventId: string | undefined, limits: (SinkLimits & { format?: 'sse' | 'ndjson'; maxEventBytes?: number }) | null, address?: string) {
    super();
    this.lastEventId = lastEventId;
    if (limits === null) {
      this.ndjson = false;
      this.highWaterMark = 0;
      this.maxEventBytes = undefined;
      this.memberId = kNoMember;
      return;
    }
    this.maxEventBytes = limits.maxEventBytes;
    this.ndjson = limits.format === 'ndjson';
    this.highWaterMark = limits.highWaterMark;
    hookNotify();
    this.memberId = native.open({
      highWaterMark: limits.highWaterMark,
      maxBuffered: limits.maxBuffered,
      slowConsumerMs: limits.slowConsumerMs,
      policy: limits.onSlowConsumer === 'drop' ? C.Policy.DROP : C.Policy.CLOSE,
      heartbeatMs: limits.heartbeatMs,
      idleTimeoutMs: limits.idleTimeoutMs,
      maxDurationMs: limits.maxDurationMs,
      address,
    });
    streams.set(this.memberId, this);
  }

  /** Aborted when the client goes away or the stream closes: stop generating then. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.isClosed) this.controller.abort(this.closeReason ?? closedError());
    }
    return this.controller.signal;
  }

  /** @internal False once close() was called or the stream closed: sends are refused. */
  get accepting(): boolean {
    return !this.isClosed && !this.closeRequested;
  }

  /** 'adopted' when the C++ core owns the socket, 'response' for res.write, 'web', or 'pending' while a request body is read. */
  get sinkKind(): SinkKind {
    return this.kind;
  }

  /** Events, bytes, time to first event, duration and why it ended (kept by the core). */
  get stats(): StreamStats {
    if (this.finalStats !== undefined) return this.finalStats;
    return this.readStats(undefined);
  }

  private readStats(endedBy: string | undefined): StreamStats {
    const m = native.memberStats(this.memberId);
    return {
      events: m?.events ?? 0,
      bytes: m?.bytes ?? 0,
      timeToFirstEventMs: m === undefined || m.timeToFirstEventMs < 0 ? undefined : m.timeToFirstEventMs,
      durationMs: m?.durationMs ?? 0,
      endedBy,
    };
  }

  /** True once the stream is closed or the client has gone. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes queued for this client and not yet taken by the kernel (or the JS sink). */
  get bufferedAmount(): number {
    return this.isClosed ? 0 : native.bufferedAmount(this.memberId);
  }

  /**
   * Queues one event. Returns true if it was queued below the high-water
   * mark; false above it (wait for 'drain'), when it was dropped by the
   * 'drop' policy, or when the stream is closed (then nothing throws).
   * Throws a TypeError (with a `code`) naming a bad field, or a RangeError
   * (ERR_OUT_OF_RANGE) for an event over `maxEventBytes`; nothing is sent then.
   */
  send(msg: MessageOf<E>): boolean;
  send(msg: SSEMessage): boolean {
    if (this.ndjson) return this.sendLine(msg);
    if (this.isClosed || this.closeRequested) return false;
    const args = messageArgs(msg);
    checkEventSize(args, effectiveMaxEventBytes(this.maxEventBytes), 'send');
    return this.write(args);
  }

  // NDJSON: `data` as one JSON line; the SSE fields have no place in it.
  private sendLine(msg: SSEMessage): boolean {
    if (msg === null || typeof msg !== 'object') throw argTypeError(`send: expected a message object like { data }, got ${msg === null ? 'null' : typeof msg}`);
    for (const field of ['event', 'id', 'retry', 'comment'] as const) {
      if (msg[field] !== undefined) throw argValueError(`send: \`${field}\` is an SSE field; an NDJSON stream (format: 'ndjson') sends only \`data\`, one JSON value a line`);
    }
    if (msg.data === undefined) throw argValueError("send: an NDJSON line needs `data` (any JSON value)");
    const line = encodeNDJSON(msg.data);
    checkBytes(line.length, effectiveMaxEventBytes(this.maxEventBytes), 'send');
    if (this.isClosed || this.closeRequested) return false;
    return native.sendBytes(this.memberId, line) === C.SendResult.SUCCESS;
  }

  /** Sends a comment line (`: text`), which clients ignore. */
  comment(text: string): boolean {
    if (typeof text !== 'string') throw argTypeError(`comment: text must be a string, got ${typeof text}`);
    if (this.ndjson) throw argValueError("comment: an NDJSON stream (format: 'ndjson') has no comments");
    if (this.isClosed || this.closeRequested) return false;
    return this.write([undefined, undefined, undefined, undefined, text]);
  }

  /**
   * Sends model output bytes as one event's data. An incomplete multi-byte
   * UTF-8 sequence at the end is held back and completed by the next call
   * (invalid bytes become U+FFFD), so what leaves is always valid UTF-8.
   * Returns like send(); true without sending when only held-back bytes remain.
   */
  sendRaw(bytes: Uint8Array, fields: { event?: string; id?: string | number } = {}): boolean {
    if (!(bytes instanceof Uint8Array)) throw argTypeError(`sendRaw: bytes must be a Uint8Array, got ${typeof bytes}`);
    if (this.isClosed || this.closeRequested) return false;
    this.rawDecoder ??= new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    const text = this.rawDecoder.decode(bytes, { stream: true });
    if (text === '') return true;
    if (this.ndjson) return this.sendLine({ ...fields, data: text });
    const args = messageArgs({ ...fields, data: text });
    checkEventSize(args, effectiveMaxEventBytes(this.maxEventBytes), 'sendRaw');
    return this.write(args);
  }

  /**
   * Sends each item of `source` (an AsyncIterable, a web ReadableStream or
   * a Node Readable) as an event, waiting for 'drain' when send() returns
   * false; the source is cancelled when the client leaves. See docs/streaming.md.
   */
  pipe<T>(source: StreamSource<T>, options?: PipeOptions<T>): Promise<PipeResult> {
    return pipe(this, source, options);
  }

  /**
   * Proxies an upstream SSE response (a fetch Response) to this client:
   * parsed by the core's parser, re-emitted with ids kept, optionally mapped;
   * the upstream is cancelled when the client leaves. See docs/streaming.md.
   */
  forward(upstream: Upstream, options?: ForwardOptions): Promise<ForwardResult> {
    return forward(this, upstream, options);
  }

  /**
   * Resolves when the client has taken what was queued down to the
   * high-water mark (at once when it already has), or when the stream
   * closes: `if (!sse.send(msg)) await sse.drained();`. Resolves to false
   * when the stream closed (or close() was called) instead.
   */
  drained(): Promise<boolean> {
    if (this.isClosed || this.closeRequested) return Promise.resolve(false);
    if (native.bufferedAmount(this.memberId) <= this.highWaterMark) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        this.off('drain', onDrain);
        this.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.on('drain', onDrain);
      this.on('close', onClose);
    });
  }

  /** Writes what is queued now rather than when the loop turns. */
  flush(): void {
    if (!this.isClosed) native.flush(this.memberId);
  }

  /** Flushes what is queued, then ends the response. Harmless when already closed. */
  close(): void {
    if (this.isClosed || this.closeRequested) return;
    this.closeRequested = true;
    // A stream still reading its request body answers through its fallback.
    if (this.startNow) this.startNow();
    if (!this.isClosed) native.close(this.memberId, true);
  }

  /** @internal Validated fields to the core. */
  write(args: MessageArgs): boolean {
    return native.send(this.memberId, args[0], args[1], args[2], args[3], args[4]) === C.SendResult.SUCCESS;
  }

  /**
   * @internal While a request body is read the member is held; `startNow`
   * attaches a sink at once (close() before the body ended).
   */
  holdUntilAttached(startNow: () => void): void {
    this.startNow = startNow;
  }

  /** @internal The socket was adopted by the core. */
  adopted(): void {
    this.kind = 'adopted';
    this.startNow = undefined;
  }

  /** @internal Attaches a JS sink: the core hands it what is queued from now on. */
  attach(sink: Sink, kind: 'response' | 'web'): void {
    this.sink = sink;
    this.kind = kind;
    this.startNow = undefined;
    native.attach(this.memberId);
  }

  /** @internal The sink took what it was handed (after deliver() returned false). */
  acknowledge(): void {
    if (!this.isClosed) native.ack(this.memberId);
  }

  /** @internal The JS sink's client left or failed: the core closes the member, and the stream closes now. */
  gone(status: number = C.Errno.EOF): void {
    if (this.isClosed) return;
    native.gone(this.memberId, status);
    this.finish(closeReason(status));
  }

  /** @internal A bytes hand-off from the core; true when the sink took them at once. */
  deliver(bytes: Buffer): boolean {
    return this.sink !== undefined && this.sink.deliver(bytes);
  }

  /** @internal Closes the handle: the core reported the member closed (or never opened a sink). */
  finish(reason: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    this.startNow = undefined;
    // The core still knows the member while its close is reported.
    this.finalStats = this.readStats(reason === undefined ? 'closed' : ((reason as { code?: string }).code ?? 'error'));
    streams.delete(this.memberId);
    const sink = this.sink;
    this.sink = undefined;
    sink?.end(reason);
    this.controller?.abort(reason ?? closedError());
    this.emit('close');
  }

  /** @internal The core's member is gone before JS was told (refused streams). */
  closeNow(reason: Error): void {
    if (this.isClosed) return;
    native.close(this.memberId, false);
    this.finish(reason);
  }

  /** @internal SinkEvents: the queue fell back under the high-water mark. */
  onDrain(): void {
    if (!this.isClosed) this.emit('drain');
  }
}

/** Why a stream whose client left closed (closeReason, signal.reason). */
export const kClientGone = "client disconnected: stop work on stream.signal (or the 'close' event); a browser reconnects with Last-Event-ID";

/** The signal's reason after close()/closeAll(). */
function closedError(): SSEError {
  return new SSEError('SSE_CLOSED', "stream closed by close() or closeAll(): stop sending (check stream.closed, or stream.signal)");
}

/** An SSEError for the status the core closed a member with (0: our own graceful close). */
function closeReason(status: number): Error | undefined {
  if (status === 0) return undefined;
  const E = C.Errno;
  if (status === E.EOF) return new SSEError('SSE_CLIENT_GONE', kClientGone);
  if (status === E.ENOBUFS) return new SSEError('SSE_SLOW_CONSUMER', 'slow consumer: the client took no bytes for slowConsumerMs while its queue was above highWaterMark, or left more than maxBuffered waiting (raise slowConsumerMs or maxBuffered, await sse.drained() before sending more, or pass onSlowConsumer: "drop" to drop events instead)');
  if (status === E.ETIMEDOUT) {
    return new SSEError('SSE_TIMEOUT', 'closed by a timeout: idleTimeoutMs or maxDurationMs (raise them, or 0 for none), or a graceful close whose client did not read within 10 s');
  }
  const name = native.errName(status);
  const err = new SSEError('SSE_CONNECTION_ERROR', `connection closed: ${name} (a socket error; stop work on stream.signal, the client reconnects on its own)`);
  err.syscallCode = name;
  err.errno = status;
  return err;
}

// One call per loop turn for every drain, close and hand-off of that turn.
// A listener that throws does not stop the others; the first error is
// rethrown after the batch so it still reaches 'uncaughtException'.
// Called after a batch of notifications that had a drain or a close in it
// (the hub's drained(key) rechecks then).
const pressureWatchers = new Set<() => void>();

/** @internal Calls `fn` after each batch of drain or close notifications; returns the unwatch function. */
export function watchPressure(fn: () => void): () => void {
  pressureWatchers.add(fn);
  return () => pressureWatchers.delete(fn);
}

// Members with no SSEStream (listenSSE's req.subscribe()): their ids, so
// closeAll() reaches them too, and who waits for them to close.
const handleless = new Set<number>();
const handlelessClosed = new Set<() => void>();

/** @internal A member with no SSEStream opened (closeAll() sends it the final message and waits for it). */
export function trackMember(id: number): void {
  handleless.add(id);
}

// The core's listener (listenSSE) reports a request whose head it read:
// [pendingId, Notify.REQUEST, listenerId]. Pending ids are not member ids.
let onRequest: ((pendingId: number, listenerId: number) => void) | undefined;

/** @internal Routes the core's REQUEST records to `fn` (the adapters' listener table). */
export function routeRequests(fn: (pendingId: number, listenerId: number) => void): void {
  onRequest = fn;
  hookNotify();
}

function hookNotify(): void {
  if (hooked) return;
  native.setNotify(onNotify);
  hooked = true;
}

function onNotify(records: Int32Array, n: number, buffers: Buffer[]): void {
  const N = C.Notify;
  let firstError: unknown;
  let failed = false;
  let eased = false;
  for (let i = 0; i < n; i++) {
    const kind = records[i * 3 + 1];
    if (kind === N.REQUEST) {
      try {
        onRequest?.(records[i * 3], records[i * 3 + 2]);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
      }
      continue;
    }
    // A REQUEST record's id is a pending connection's, not a member's: it
    // must never reach a stream (and any other unknown kind is skipped).
    if (kind !== N.DATA && kind !== N.CLOSE && kind !== N.DRAIN) continue;
    const stream = streams.get(records[i * 3]);
    if (stream === undefined) {
      if (kind === N.CLOSE && handleless.delete(records[i * 3])) {
        eased = true;
        for (const fn of [...handlelessClosed]) fn();
      }
      continue;
    }
    try {
      if (kind === N.DATA) {
        if (stream.deliver(buffers[records[i * 3 + 2]])) records[i * 3 + 1] = N.DATA_ACCEPTED;
      } else if (kind === N.CLOSE) {
        eased = true;
        stream.finish(closeReason(records[i * 3 + 2]));
      } else if (kind === N.DRAIN) {
        eased = true;
        stream.onDrain();
      }
    } catch (err) {
      if (!failed) {
        failed = true;
        firstError = err;
      }
    }
  }
  if (eased && pressureWatchers.size !== 0) {
    for (const fn of [...pressureWatchers]) {
      try {
        fn();
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
      }
    }
  }
  if (failed) throw firstError;
}

/**
 * Closes every open stream of this thread: sends `finalMsg` (if given) to
 * each, writes at once what the kernel takes, and ends each response. The
 * promise settles when every stream has drained and closed, or after
 * `timeoutMs` (default 10 s), when those still draining are cut off. Node's
 * server.close() does not wait for adopted streams (Node no longer knows
 * them): on shutdown, `await closeAll(final)` before `process.exit()`. A bad
 * final message throws (synchronously) before anything is sent.
 */
export function closeAll(finalMsg?: SSEMessage, options: { timeoutMs?: number } = {}): Promise<void> {
  // Checked first: a bad final message throws before anything is sent.
  const last = finalMsg === undefined ? undefined : messageArgs(finalMsg);
  if (typeof options !== 'object' || options === null) throw argTypeError('closeAll: options must be an object like { timeoutMs }');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw argValueError(`closeAll: \`timeoutMs\` must be a non-negative number, got ${String(timeoutMs)}`);
  const all = [...streams.values()];
  for (const s of all) {
    if (last && s.accepting) s.write(last);
    s.close();
    s.flush();
  }
  const bare = [...handleless];
  for (const id of bare) {
    if (last) native.send(id, last[0], last[1], last[2], last[3], last[4]);
    native.close(id, true);
  }
  native.closeAll(true);
  const open = all.filter((s) => !s.closed);
  if (open.length === 0 && handleless.size === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let left = open.length;
    const check = () => {
      if (left !== 0 || bare.some((id) => handleless.has(id))) return;
      clearTimeout(timer);
      handlelessClosed.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      for (const s of open) if (!s.closed) native.close(s.memberId, false);
      for (const id of bare) if (handleless.has(id)) native.close(id, false);
      handlelessClosed.delete(check);
      resolve();
    }, timeoutMs);
    handlelessClosed.add(check);
    for (const s of open) {
      s.once('close', () => {
        left--;
        check();
      });
    }
  });
}

/** Streams of this thread that are open. */
export function openStreamCount(): number {
  return streams.size;
}
