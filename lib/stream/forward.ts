// forward(): proxies an upstream event stream (an OpenAI-compatible API's
// streaming response, say) to an SSEStream. The upstream bytes are parsed
// by the core's parser and every event is sent again, ids kept, optionally
// mapped or filtered. Same backpressure and cancellation as pipe().
//
// Why events and not bytes: the stream has no public "write these bytes"
// (bytes that are not frames the core encoded would break its invariants,
// e.g. a heartbeat or a `done` message landing inside a half-forwarded
// event), and keeping the output frame-aligned needs a parser anyway. So
// even the untransformed path parses and re-encodes, both in C++, each
// upstream chunk in one call; what leaves is frame-aligned and canonical
// (LF line ends, `data: ` with its space) whatever the upstream wrote.
import { createParser, type EventSourceMessage } from '../native/parser';
import type { SSEMessage } from '../native/encoder';
import { Flow, GONE } from './flow';
import { checkPipeOptions, doneMessage, type PipeResult } from './pipe';
import { describe, openSource, type OpenSource, type StreamSource } from './source';
import type { PipeTarget as SSEStream } from './target';

/** Options of forward(). Every field is optional. */
export interface ForwardOptions {
  /**
   * Turns each upstream event into the message to send (null or undefined
   * drops it). Without it every event is sent as it came: `event`, `id` and
   * `data` unchanged (no JSON round trip).
   */
  map?: (event: EventSourceMessage, index: number) => SSEMessage | null | undefined;
  /** Forward upstream comment lines (`: keepalive`) and `retry:` fields. @defaultValue true */
  comments?: boolean;
  /** Sent after the upstream ended by itself. A string is the data (`'[DONE]'`). */
  done?: string | SSEMessage;
  /** Called when reading the upstream (or `map`) fails; the message returned, if any, is sent. */
  error?: (error: unknown) => SSEMessage | null | undefined;
  /** Close the stream once the upstream is over. @defaultValue false */
  close?: boolean;
  /**
   * Aborted when the client leaves (or the pipe fails), so the upstream
   * request stops: pass the controller whose signal you gave to fetch().
   */
  abort?: AbortController;
}

/** How a forward ended: as pipe()'s result, with `bytes` the upstream body bytes read. */
export interface ForwardResult extends PipeResult {
  bytes: number;
}

/** An upstream that answered with an error status or a body that is not an event stream. */
export class SSEUpstreamError extends Error {
  /** 'SSE_UPSTREAM_STATUS' (not 2xx) or 'SSE_UPSTREAM_TYPE' (not text/event-stream). */
  readonly code: 'SSE_UPSTREAM_STATUS' | 'SSE_UPSTREAM_TYPE';
  readonly status: number;
  constructor(message: string, code: SSEUpstreamError['code'], status: number) {
    super(message);
    this.name = 'SSEUpstreamError';
    this.code = code;
    this.status = status;
  }
}

/** What forward() reads: a fetch Response, or its body (a ReadableStream, AsyncIterable or Node Readable of bytes). */
export type Upstream = Response | StreamSource<Uint8Array | string>;

function isResponse(x: unknown): x is Response {
  const r = x as Response | null;
  return typeof r === 'object' && r !== null && 'body' in r && typeof r.status === 'number' && typeof r.headers?.get === 'function';
}

/**
 * Sends every event of `upstream` on `sse` and resolves when the upstream
 * ended, failed, or the client left (then the upstream body is cancelled
 * and `abort` aborted, so the upstream stops generating). A Response that is
 * not 2xx or not `text/event-stream` ends at once with reason 'error' and
 * an SSEUpstreamError. The stream stays open afterwards unless `close` is
 * set. Rejects only with what the `error` callback throws; a bad argument
 * throws a TypeError at once.
 */
export function forward(sse: SSEStream, upstream: Upstream, options?: ForwardOptions): Promise<ForwardResult> {
  checkPipeOptions('forward', options);
  const o = options ?? {};
  if (o.comments !== undefined && typeof o.comments !== 'boolean') throw new TypeError(`forward: \`comments\` must be a boolean, got ${describe(o.comments)}`);
  if (o.abort !== undefined && typeof (o.abort as AbortController | null)?.abort !== 'function') {
    throw new TypeError(`forward: \`abort\` must be an AbortController (the one whose signal the upstream fetch got), got ${describe(o.abort)}`);
  }
  if (isResponse(upstream)) {
    const problem = checkResponse(upstream);
    if (problem !== undefined) {
      upstream.body?.cancel().then(undefined, () => {});
      return Promise.resolve(fail(sse, o, problem));
    }
    if (upstream.body === null) return Promise.resolve(end(sse, o, 0, 0));
    return run(sse, openSource<Uint8Array | string>(upstream.body, 'forward'), o);
  }
  return run(sse, openSource<Uint8Array | string>(upstream, 'forward'), o);
}

function checkResponse(res: Response): SSEUpstreamError | undefined {
  if (res.status < 200 || res.status >= 300) {
    return new SSEUpstreamError(`forward: the upstream answered ${res.status} ${res.statusText}`.trimEnd(), 'SSE_UPSTREAM_STATUS', res.status);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!/^\s*text\/event-stream\s*(;|$)/i.test(type)) {
    return new SSEUpstreamError(
      `forward: the upstream body is ${type === '' ? 'untyped' : `'${type}'`}, not text/event-stream (did the upstream request ask to stream, e.g. \`stream: true\`?)`,
      'SSE_UPSTREAM_TYPE',
      res.status,
    );
  }
  return undefined;
}

function end(sse: SSEStream, o: ForwardOptions, events: number, bytes: number): ForwardResult {
  if (o.done !== undefined && !sse.closed) sse.send(doneMessage(o.done));
  if (o.close === true) sse.close();
  return { events, bytes, reason: 'end' };
}

function fail(sse: SSEStream, o: ForwardOptions, err: unknown, events = 0, bytes = 0): ForwardResult {
  o.abort?.abort(err);
  if (!sse.closed && o.error !== undefined) {
    const msg = o.error(err);
    if (msg !== null && msg !== undefined) sse.send(msg);
  }
  if (o.close === true) sse.close();
  return { events, bytes, reason: 'error', error: err };
}

async function run(sse: SSEStream, src: OpenSource<Uint8Array | string>, o: ForwardOptions): Promise<ForwardResult> {
  const { map } = o;
  const passOthers = o.comments !== false;
  const flow = new Flow(sse);
  let events = 0;
  let bytes = 0;
  let index = 0;
  // Whether every send of the current chunk stayed under the high-water mark.
  let ok = true;
  const parser = createParser({
    onEvent: (ev) => {
      let msg: SSEMessage | null | undefined;
      if (map !== undefined) {
        msg = map(ev, index++);
        if (msg === null || msg === undefined) return;
      } else {
        msg = ev.event === undefined ? { data: ev.data } : { event: ev.event, data: ev.data };
        if (ev.id !== undefined) msg.id = ev.id;
      }
      if (!sse.send(msg)) ok = false;
      events++;
    },
    onComment: passOthers ? (text) => void (sse.comment(text) || (ok = false)) : undefined,
    onRetry: passOthers ? (ms) => void (sse.send({ retry: ms }) || (ok = false)) : undefined,
  });
  const left = (): ForwardResult => {
    src.cancel();
    o.abort?.abort(new Error('client disconnected'));
    flow.dispose();
    return { events, bytes, reason: 'client-left' };
  };

  try {
    for (;;) {
      if (flow.gone) return left();
      const r = await flow.race(src.next());
      if (r === GONE) return left();
      if (r.done) break;
      const chunk = r.value;
      if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
      else if (typeof chunk !== 'string') throw new TypeError(`forward: the upstream body yielded ${describe(chunk)}; expected bytes or strings`);
      ok = true;
      parser.feed(chunk);
      if (!ok && (await flow.drained()) === GONE) return left();
    }
  } catch (err) {
    src.cancel(err);
    flow.dispose();
    if (sse.closed) {
      o.abort?.abort(new Error('client disconnected'));
      return { events, bytes, reason: 'client-left' };
    }
    return fail(sse, o, err, events, bytes);
  }
  src.release();
  flow.dispose();
  return end(sse, o, events, bytes);
}
