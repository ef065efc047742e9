// pipe(): streams a producer (a model's tokens, say) into an SSEStream, one
// event per item, with backpressure, an optional final message, and the
// producer stopped when the client leaves. Uses only the stream's public
// API (send, sendRaw, close, closed, 'drain', 'close').
import { encodeEvent, type SSEMessage } from '../native/encoder';
import { Flow, GONE } from './flow';
import { describe, openSource, type StreamSource } from './source';
import type { PipeTarget as SSEStream } from './target';

/** Options of pipe(). Every field is optional. */
export interface PipeOptions<T = unknown> {
  /**
   * Turns an item into the message to send; null or undefined skips it.
   * Without it: a string is sent as the data, bytes (Uint8Array) through
   * sse.sendRaw (a UTF-8 character split across items is held back until
   * complete), anything else as JSON; `event` names each event.
   */
  map?: (item: T, index: number) => SSEMessage | null | undefined;
  /** The event name of every item sent without `map` (`event: token`). @defaultValue unnamed ('message') */
  event?: string;
  /**
   * Sent after the source ended by itself (not after an error or the client
   * leaving). A string is the data: `done: '[DONE]'` sends `data: [DONE]`.
   */
  done?: string | SSEMessage;
  /** Called when the source (or `map`) throws; the message returned, if any, is sent (an error event, say). */
  error?: (error: unknown) => SSEMessage | null | undefined;
  /** Close the stream once the pipe is over (after `done` or `error`). @defaultValue false: the stream stays open */
  close?: boolean;
}

/** How a pipe ended. */
export interface PipeResult {
  /** Items sent as events (skipped items and the `done`/`error` message not counted). */
  events: number;
  /** Bytes taken from a source of bytes; undefined when no item was a Uint8Array. */
  bytes?: number;
  /**
   * 'end': the source finished; 'client-left': the stream closed first (the
   * client went away, or someone closed it) and the source was cancelled;
   * 'error': the source or `map` threw (see `error`), and the source was cancelled.
   */
  reason: 'end' | 'client-left' | 'error';
  /** What was thrown, when `reason` is 'error'. */
  error?: unknown;
}

/** Checks pipe()'s options; a TypeError names the bad one. */
export function checkPipeOptions(fn: string, options: unknown): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: \`options\` must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const name of ['map', 'error']) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw new TypeError(`${fn}: \`${name}\` must be a function, got ${describe(o[name])}`);
  }
  if (o.event !== undefined && typeof o.event !== 'string') throw new TypeError(`${fn}: \`event\` must be a string, got ${describe(o.event)}`);
  if (o.close !== undefined && typeof o.close !== 'boolean') throw new TypeError(`${fn}: \`close\` must be a boolean, got ${describe(o.close)}`);
  const done = o.done;
  if (done !== undefined && typeof done !== 'string' && (done === null || typeof done !== 'object')) {
    throw new TypeError(`${fn}: \`done\` must be a string (the data, e.g. '[DONE]') or a message object, got ${describe(done)}`);
  }
  // A bad final message fails now, not after the whole stream was sent.
  if (done !== undefined && typeof done !== 'string') encodeEvent(done as SSEMessage);
}

/** The message `done` stands for. */
export function doneMessage(done: string | SSEMessage): SSEMessage {
  return typeof done === 'string' ? { data: done } : done;
}

/**
 * Sends every item of `source` (an AsyncIterable such as an async
 * generator, an Iterable, a web ReadableStream or a Node Readable) on
 * `sse`, in order, and resolves once the source ended, threw, or the client
 * left. When send() returns false (the client is behind) the next item is
 * not read until 'drain'. When the stream closes the source is cancelled at
 * once (return() on the iterator, cancel() on the reader, destroy() on the
 * Readable); an async generator then runs its `finally` when it reaches its
 * next `yield`, so give it `sse.signal` to break out of a long await of its
 * own. The stream stays open afterwards unless `close` is set. Rejects only
 * with what the `error` callback throws (or a TypeError for the message it
 * returned); a bad `source` or option throws a TypeError at once.
 */
export function pipe<T>(sse: SSEStream, source: StreamSource<T>, options?: PipeOptions<T>): Promise<PipeResult> {
  checkPipeOptions('pipe', options);
  const opened = openSource<T>(source, 'pipe');
  return run(sse, opened, options ?? {});
}

async function run<T>(sse: SSEStream, src: ReturnType<typeof openSource<T>>, options: PipeOptions<T>): Promise<PipeResult> {
  const { map, event, done, error, close } = options;
  const flow = new Flow(sse);
  let events = 0;
  let bytes: number | undefined;
  let index = 0;
  const finish = (result: PipeResult): PipeResult => {
    flow.dispose();
    if (close === true && result.reason !== 'client-left') sse.close();
    return result;
  };
  const withBytes = (r: PipeResult): PipeResult => (bytes === undefined ? r : { ...r, bytes });

  try {
    for (;;) {
      if (flow.gone) {
        src.cancel();
        return finish(withBytes({ events, reason: 'client-left' }));
      }
      const r = await flow.race(src.next());
      if (r === GONE) {
        src.cancel();
        return finish(withBytes({ events, reason: 'client-left' }));
      }
      if (r.done) break;
      const item = r.value;
      let ok: boolean;
      if (map !== undefined) {
        const msg = map(item, index++);
        if (msg === null || msg === undefined) continue;
        ok = sse.send(msg);
      } else if (item instanceof Uint8Array) {
        bytes = (bytes ?? 0) + item.byteLength;
        ok = sse.sendRaw(item, event === undefined ? {} : { event });
      } else {
        if (item === undefined) continue;
        ok = sse.send(event === undefined ? { data: item } : { event, data: item });
      }
      events++;
      if (!ok && (await flow.drained()) === GONE) {
        src.cancel();
        return finish(withBytes({ events, reason: 'client-left' }));
      }
    }
  } catch (err) {
    src.cancel(err);
    if (!sse.closed && error !== undefined) {
      const msg = error(err);
      if (msg !== null && msg !== undefined) sse.send(msg);
    }
    return finish(withBytes({ events, reason: 'error', error: err }));
  }
  src.release();
  if (done !== undefined && !sse.closed) sse.send(doneMessage(done));
  return finish(withBytes({ events, reason: 'end' }));
}
