// fetchEventSource and events(): event streams over any method (POST
// bodies), headers computed per attempt, retries with exponential backoff
// and jitter, Last-Event-ID on every retry. Written against a Runtime (a
// transport and a parser factory) so that Node (node:http + the native
// parser) and browsers (fetch + parser-ts) share it; imports nothing from node:.
import type { EventSourceMessage, EventSourceParser, ParserConfig } from '../common/parser-api';
import { decodeData, type EventMap, type SSEEventOf } from '../common/events';
import {
  SSEBufferOverflowError,
  SSEContentTypeError,
  SSEHttpError,
  SSENetworkError,
  SSERetriesExhaustedError,
  isEventStream,
  parseRetryAfter,
} from './errors';
import { kHealthyMs, kMinBackoffMs, lastEventIdHeader, resolveMaxBufferSize } from './options';
import { fetchTransport, normalizeHeaders, readSnippet, type FetchLike, type HeadersLike, type Transport } from './transport';

/** What a client is built on: how to send a request and how to parse a body. */
export interface Runtime {
  transport: Transport;
  createParser: (config: ParserConfig) => EventSourceParser;
}

/** The response head handed to `onopen`. */
export interface SSEResponseInfo {
  status: number;
  statusText: string;
  /** The URL that answered, after redirects. */
  url: string;
  headers: Headers;
}

export interface FetchEventSourceInit {
  /** @defaultValue 'GET' */
  method?: string;
  /**
   * Request headers, or a function (sync or async) called before every
   * attempt, e.g. to put a fresh token in. `Accept: text/event-stream` is
   * added unless given; `Last-Event-ID` is set on retries once an id arrived.
   */
  headers?: HeadersLike | (() => HeadersLike | Promise<HeadersLike>);
  /** Sent with every attempt (a string or bytes, e.g. `JSON.stringify(payload)`). */
  body?: string | Uint8Array | null;
  /** Aborting ends the stream: the promise resolves (it does not reject). */
  signal?: AbortSignal;
  /**
   * Called once the response was accepted (2xx other than 204, Content-Type
   * text/event-stream), before the first event. May be async; a throw is
   * handled like any error (see onerror).
   */
  onopen?: (response: SSEResponseInfo) => void | Promise<void>;
  /**
   * Called for every event, in order. If it returns a promise, reading
   * pauses until it settles (backpressure). A throw is handled like any error.
   */
  onmessage?: (event: EventSourceMessage) => void | Promise<void>;
  /**
   * The server ended the response normally; the promise then resolves. A
   * throw goes to onerror like any error (return a delay there to reconnect).
   */
  onclose?: () => void;
  /**
   * Called with every error. Return a number to retry after that many ms
   * (for any error, e.g. a 401 after refreshing a token); return nothing for
   * the default (retry SSENetworkError, 5xx, 408 and 429 with backoff; reject
   * with anything else); throw to stop: the promise rejects with what you threw.
   */
  onerror?: (error: unknown) => number | null | undefined | void;
  /** Sent as Last-Event-ID on the first attempt too (resuming an earlier stream). */
  lastEventId?: string;
  /** First retry delay in ms; a `retry:` from the server replaces it. @defaultValue 1000 */
  retryDelay?: number;
  /** Upper bound of the backoff in ms. @defaultValue 30000 */
  maxRetryDelay?: number;
  /**
   * Failed attempts in a row before giving up with SSERetriesExhaustedError.
   * An attempt that delivered an event, or whose response stayed open 10 s,
   * ends a row. @defaultValue Infinity
   */
  maxRetries?: number;
  /** Fraction of each delay that is random (0: exact, 1: anywhere in [0, delay]). @defaultValue 0.5 */
  jitter?: number;
  /** Use this fetch instead of the default transport (node:http in Node). */
  fetch?: FetchLike;
  /**
   * Most bytes of an unfinished line plus unfinished event data held; past
   * it the attempt fails with SSEBufferOverflowError (not retried by
   * default). Infinity turns the limit off. Lines that cannot be fields are
   * dropped, not held. @defaultValue 8388608 (8 MiB)
   */
  maxBufferSize?: number;
  /** `true` (TypedFetchEventSourceInit) delivers typed events with parsed data. @defaultValue false */
  json?: false;
}

/**
 * fetchEventSource's options for a typed stream, `json: true`: onmessage
 * gets `{ event, data, id }` with `event` one of E's names ('message' for
 * unnamed events) and `data` decoded by the server's rule (JSON, else the
 * string itself), typed as E says: `fetchEventSource<{ progress: { pct:
 * number }; done: string }>(url, { json: true, onmessage(ev) { ... } })`.
 */
export type TypedFetchEventSourceInit<E extends EventMap = EventMap> = Omit<FetchEventSourceInit, 'onmessage' | 'json'> & {
  json: true;
  /** As FetchEventSourceInit's onmessage, with the typed event. */
  onmessage?: (event: SSEEventOf<E>) => void | Promise<void>;
};

/** What a client delivers: the parser's message, or with `json: true` the typed event. */
type Delivered = EventSourceMessage | SSEEventOf<EventMap>;

function checkInit(init: FetchEventSourceInit | TypedFetchEventSourceInit): void {
  if (init === null || typeof init !== 'object') throw new TypeError(`\`init\` must be an object of options like { method, headers, onmessage }, got ${init === null ? 'null' : typeof init}`);
  if (init.json !== undefined && typeof init.json !== 'boolean') throw new TypeError(`\`json\` must be true or false, got ${String(init.json)}`);
  for (const name of ['onopen', 'onmessage', 'onclose', 'onerror', 'fetch'] as const) {
    if (init[name] !== undefined && typeof init[name] !== 'function') throw new TypeError(`\`${name}\` must be a function, got ${typeof init[name]}`);
  }
  for (const name of ['retryDelay', 'maxRetryDelay'] as const) {
    const v = init[name];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
      throw new TypeError(`\`${name}\` must be a non-negative number of milliseconds, got ${String(v)}`);
    }
  }
  const { maxRetries, jitter } = init;
  if (maxRetries !== undefined && !(typeof maxRetries === 'number' && maxRetries >= 0)) {
    throw new TypeError(`\`maxRetries\` must be a non-negative number, got ${String(maxRetries)}`);
  }
  if (jitter !== undefined && !(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) {
    throw new TypeError(`\`jitter\` must be a number from 0 to 1, got ${String(jitter)}`);
  }
}

/** Whether the default policy retries `err`. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof SSENetworkError) return true;
  if (err instanceof SSEHttpError) return err.status >= 500 || err.status === 408 || err.status === 429;
  return false;
}

/**
 * The wait before retry number `failures` (1 for the first): `base` for the
 * first (even 0: the server's `retry: 0` is honoured once), then doubled per
 * failure in a row from at least kMinBackoffMs (250), capped at `max`; then
 * up to `jitter` of it taken off at random (`random` in [0, 1)), so that
 * clients that failed together do not come back together.
 */
export function backoffDelay(failures: number, base: number, max: number, jitter: number, random: number): number {
  const from = failures <= 1 ? base : Math.max(base, kMinBackoffMs);
  const exact = Math.min(max, from * 2 ** Math.min(Math.max(0, failures - 1), 40));
  return exact * (1 - jitter * random);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Opens an event stream and keeps it open across failures (see
 * FetchEventSourceInit). Resolves when the server ends the stream normally,
 * answers 204, or `signal` aborts; rejects with the error that stopped it
 * (SSEHttpError, SSEContentTypeError, SSERetriesExhaustedError, or what a
 * callback threw).
 */
export async function fetchEventSourceWith(rt: Runtime, url: string | URL, init: FetchEventSourceInit | TypedFetchEventSourceInit = {}): Promise<void> {
  checkInit(init);
  const href = String(url);
  const transport = init.fetch !== undefined ? fetchTransport(init.fetch) : rt.transport;
  const { signal } = init;
  const method = (init.method ?? 'GET').toUpperCase();
  const baseDelay = init.retryDelay ?? 1000;
  const maxDelay = init.maxRetryDelay ?? 30000;
  const maxRetries = init.maxRetries ?? Infinity;
  const jitter = init.jitter ?? 0.5;
  const maxBufferSize = resolveMaxBufferSize(init.maxBufferSize);
  let lastEventId = init.lastEventId ?? '';
  let serverRetry: number | undefined;
  let failures = 0; // in a row; a healthy attempt (an event, or kHealthyMs open) ends the row
  let openedAt: number | undefined; // when this attempt's response was accepted
  let delivered = false; // this attempt delivered an event

  // One attempt: resolves when the stream is over for good (ended, 204),
  // rejects with what went wrong.
  const attempt = async (ac: AbortController): Promise<void> => {
    const given = typeof init.headers === 'function' ? await init.headers() : init.headers;
    const headers: Record<string, string> = { accept: 'text/event-stream', ...normalizeHeaders(given) };
    // UTF-8, as browsers send it (a non-Latin-1 id used to break every retry).
    const idHeader = lastEventIdHeader(lastEventId);
    if (idHeader !== undefined) headers['last-event-id'] = idHeader;
    else delete headers['last-event-id'];
    const res = await transport({ url: href, method, headers, body: init.body, signal: ac.signal });
    if (res.status === 204) {
      res.cancel();
      return;
    }
    if (res.status < 200 || res.status >= 300) {
      const snippet = await readSnippet(res);
      throw new SSEHttpError(res.status, res.statusText, res.url, snippet, parseRetryAfter(res.headers.get('retry-after')));
    }
    const type = res.headers.get('content-type');
    if (!isEventStream(type)) {
      res.cancel();
      throw new SSEContentTypeError(type ?? '', res.url);
    }
    if (res.unreadable !== undefined) {
      res.cancel();
      throw res.unreadable;
    }
    openedAt = Date.now();
    if (init.onopen !== undefined) {
      await init.onopen({ status: res.status, statusText: res.statusText, url: res.url, headers: res.headers });
    }
    const onmessage = init.onmessage as ((ev: Delivered) => void | Promise<void>) | undefined;
    const json = init.json === true;
    const pending: PromiseLike<unknown>[] = [];
    let overflow = false;
    const parser = rt.createParser({
      onEvent: (ev) => {
        delivered = true;
        if (onmessage === undefined) return;
        const r = onmessage(json ? { event: ev.event ?? 'message', data: decodeData(ev.data), id: ev.id } : ev);
        if (r !== undefined && typeof (r as PromiseLike<void>).then === 'function') pending.push(r);
      },
      onId: (id) => {
        lastEventId = id;
      },
      onRetry: (ms) => {
        serverRetry = ms;
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') overflow = true;
      },
      maxBufferSize,
    });
    try {
      for await (const chunk of res.body) {
        parser.feed(chunk);
        if (overflow) throw new SSEBufferOverflowError(maxBufferSize ?? 0, res.url);
        if (pending.length !== 0) {
          const waiting = pending.splice(0);
          await Promise.all(waiting);
        }
      }
    } finally {
      res.cancel();
    }
    init.onclose?.();
  };

  for (;;) {
    if (signal?.aborted) return;
    const ac = new AbortController();
    const forward = () => ac.abort();
    signal?.addEventListener('abort', forward, { once: true });
    let error: unknown;
    openedAt = undefined;
    delivered = false;
    try {
      await attempt(ac);
      return;
    } catch (err) {
      error = err;
    } finally {
      signal?.removeEventListener('abort', forward);
      ac.abort();
    }
    if (signal?.aborted) return;
    if (delivered || (openedAt !== undefined && Date.now() - openedAt >= kHealthyMs)) failures = 0;
    failures++;
    const chosen = init.onerror?.(error); // a throw rejects with it
    let delay: number;
    if (typeof chosen === 'number' && chosen >= 0) {
      delay = chosen;
    } else if (!isRetryable(error)) {
      throw error;
    } else if (failures > maxRetries) {
      throw new SSERetriesExhaustedError(failures, error);
    } else {
      const retryAfter = error instanceof SSEHttpError ? error.retryAfterMs : undefined;
      delay = retryAfter ?? backoffDelay(failures, serverRetry ?? baseDelay, maxDelay, jitter, Math.random());
    }
    // setTimeout fires at once past 2^31-1 ms: cap, never spin.
    await sleep(Math.min(delay, 2 ** 31 - 1), signal);
  }
}

/** Options of events(): those of fetchEventSource except the callbacks it owns. */
export type EventsInit = Omit<FetchEventSourceInit, 'onmessage' | 'onclose'> & {
  /** Events buffered before reading pauses (the consumer is behind). @defaultValue 64 */
  highWaterMark?: number;
};

/** events()'s options for a typed stream: `json: true` yields SSEEventOf<E> (see TypedFetchEventSourceInit). */
export type TypedEventsInit = Omit<EventsInit, 'json'> & { json: true };

/**
 * The events of a stream as an async iterator: `for await (const ev of
 * events(url, init))`. Connects on the first next(); leaving the loop
 * (break, return, throw) closes the connection. Ends when the stream ends
 * or `signal` aborts; throws what fetchEventSource would reject with.
 */
export async function* eventsWith(rt: Runtime, url: string | URL, init: EventsInit | TypedEventsInit = {}): AsyncGenerator<Delivered, void, undefined> {
  const { highWaterMark = 64, signal, ...rest } = init;
  const queue: Delivered[] = [];
  let head = 0;
  let wake: (() => void) | undefined;
  let paused: Promise<void> | undefined;
  let resume: (() => void) | undefined;
  let finished = false;
  let failed = false;
  let failure: unknown;
  const ac = new AbortController();
  const forward = () => ac.abort();
  if (signal?.aborted) return;
  signal?.addEventListener('abort', forward, { once: true });

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const done = fetchEventSourceWith(rt, url, {
    ...(rest as FetchEventSourceInit),
    signal: ac.signal,
    onmessage: (ev: Delivered) => {
      queue.push(ev);
      notify();
      // Every event of the chunk waits on the same promise: reading resumes
      // once the consumer is back under the mark.
      if (queue.length - head >= highWaterMark) return (paused ??= new Promise<void>((r) => (resume = r)));
    },
  }).then(
    () => {
      finished = true;
      notify();
    },
    (err) => {
      finished = true;
      failed = true;
      failure = err;
      notify();
    },
  );

  try {
    for (;;) {
      if (head < queue.length) {
        const ev = queue[head++];
        if (head === queue.length) {
          queue.length = 0;
          head = 0;
        }
        if (resume !== undefined && queue.length - head < highWaterMark) {
          const r = resume;
          resume = undefined;
          paused = undefined;
          r();
        }
        yield ev;
        continue;
      }
      if (finished) {
        if (failed) throw failure;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    signal?.removeEventListener('abort', forward);
    ac.abort();
    resume?.();
    await done;
  }
}
