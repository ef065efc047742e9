// useSSEStream: one streamed request per start() (POST a prompt, read the
// model's answer as Server-Sent Events), built on the browser build of
// fetchEventSource. Unlike useEventSource nothing is shared: each call of
// start() is its own request, aborted by abort(), by the next start(), or by
// unmounting. No JSX, nothing from node: or the addon.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { fetchEventSource as browserFetchEventSource } from '../client/browser';
import type { FetchEventSourceInit, SSEResponseInfo } from '../client/fetch-event-source';
import type { FetchLike, HeadersLike } from '../client/transport';
import type { EventSourceMessage } from '../common/parser-api';
import { decodeData, type EventMap, type SSEEventOf } from '../common/events';

/** Where a stream is: before start(), waiting for the response head, reading, ended normally, failed. */
export type SSEStreamStatus = 'idle' | 'connecting' | 'streaming' | 'done' | 'error';

/** One event as the hook keeps it: `data` after `parse`. */
export interface SSEStreamEvent<T = unknown> {
  /** The event name; 'message' for unnamed events. */
  event: string;
  id: string | undefined;
  data: T;
}

/** A fetchEventSource implementation (the browser build's by default; sse-native/client's in Node). */
export type FetchEventSourceFn = (url: string | URL, init?: FetchEventSourceInit) => Promise<void>;

/** A request body: a string or bytes as they are, anything else JSON (with `Content-Type: application/json`). */
export type SSEStreamBody = string | Uint8Array | Record<string, unknown> | unknown[] | null;

export interface UseSSEStreamOptions<T = unknown> {
  /** @defaultValue 'POST' when there is a body, else 'GET' */
  method?: string;
  /** The request body; start(overrides) may replace it per call. */
  body?: SSEStreamBody;
  headers?: HeadersLike;
  /**
   * 'json': JSON.parse the data, falling back to the raw string when it is
   * not JSON (`[DONE]` stays a string); 'text': the raw string. @defaultValue 'json'
   */
  parse?: 'json' | 'text';
  /**
   * The data that ends the stream (the event is not kept): the hook stops
   * reading and status becomes 'done'. A function decides per event; null
   * waits for the server to end the response. @defaultValue '[DONE]'
   */
  done?: string | ((event: SSEStreamEvent<T>) => boolean) | null;
  /**
   * The text an event adds to `text` (undefined adds nothing). By default:
   * a string's data itself; an object's OpenAI `choices[0].delta.content`
   * (or `choices[0].text`), else its `token`, `content` or `text` string.
   */
  text?: (event: SSEStreamEvent<T>) => string | undefined;
  /** The most events kept in `events` (the oldest are dropped); `text` keeps everything. @defaultValue 10000 */
  maxEvents?: number;
  /** Retries after a network error or a 5xx before giving up (a POST is repeated). @defaultValue 0 */
  retries?: number;
  /** Called for every event, in order, from the read loop itself (a burst between renders still calls it per event). */
  onEvent?: (event: SSEStreamEvent<T>) => void;
  /** The response head was accepted: status is now 'streaming'. */
  onOpen?: (response: SSEResponseInfo) => void;
  /** The stream ended normally (the done event, or the server ended the response). */
  onDone?: (text: string) => void;
  onError?: (error: unknown) => void;
  /** Start when mounted (and again when the URL changes). @defaultValue false: call start() */
  autoStart?: boolean;
  /** A fetch to use instead of the global one (the browser build's transport). */
  fetch?: FetchLike;
  /** The client to use: sse-native/client's fetchEventSource in Node or tests. @defaultValue the browser build's */
  fetchEventSource?: FetchEventSourceFn;
  /** `true` (TypedSSEStreamOptions) types the events by an event map. @defaultValue false */
  json?: false;
}

/**
 * useSSEStream's options for a typed stream, `json: true`:
 * `useSSEStream<{ token: { text: string }; done: string }>(url, { json: true,
 * onEvent(ev) { if (ev.event === 'token') ev.data.text } })`. Data is decoded
 * by the server's rule (JSON, else the string itself) and typed by the map;
 * `events`, `done`, `text` and onEvent see SSEEventOf<E>.
 */
export interface TypedSSEStreamOptions<E extends EventMap = EventMap>
  extends Omit<UseSSEStreamOptions<E[keyof E & string]>, 'parse' | 'done' | 'text' | 'onEvent' | 'json'> {
  json: true;
  /** As UseSSEStreamOptions' done, with the typed event. @defaultValue '[DONE]' */
  done?: string | ((event: SSEEventOf<E>) => boolean) | null;
  /** As UseSSEStreamOptions' text, with the typed event. */
  text?: (event: SSEEventOf<E>) => string | undefined;
  /** Called for every event, in order: `switch (event.event)` narrows `event.data`. */
  onEvent?: (event: SSEEventOf<E>) => void;
}

export interface TypedSSEStreamResult<E extends EventMap = EventMap> extends Omit<UseSSEStreamResult<E[keyof E & string]>, 'events'> {
  events: SSEEventOf<E>[];
}

/** What start() may change for one request. */
export interface SSEStreamStartOptions {
  body?: SSEStreamBody;
  headers?: HeadersLike;
}

export interface UseSSEStreamResult<T = unknown> {
  /** Sends a new request (aborting one in flight) and clears text, events and error. */
  start: (overrides?: SSEStreamStartOptions) => void;
  /** Stops reading and closes the request; text and events stay, status becomes 'idle'. */
  abort: () => void;
  /** Everything the events added so far (see `text`). */
  text: string;
  events: SSEStreamEvent<T>[];
  status: SSEStreamStatus;
  error: unknown;
  /** The id of the latest event that had one. */
  lastEventId: string | undefined;
}

interface State<T> {
  text: string;
  events: SSEStreamEvent<T>[];
  status: SSEStreamStatus;
  error: unknown;
  lastEventId: string | undefined;
}

const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

function decode<T>(text: string, parse: 'json' | 'text'): T {
  return (parse === 'text' ? text : decodeData(text)) as T;
}

/** The default `text`: covers OpenAI chunks and the usual `{ token }` / `{ content }` shapes. */
export function defaultText(event: SSEStreamEvent<unknown>): string | undefined {
  const d = event.data;
  if (typeof d === 'string') return d;
  if (d === null || typeof d !== 'object') return undefined;
  const o = d as Record<string, unknown>;
  const choice = Array.isArray(o.choices) ? (o.choices[0] as Record<string, unknown> | undefined) : undefined;
  if (choice !== undefined) {
    const delta = choice.delta as Record<string, unknown> | undefined;
    if (typeof delta?.content === 'string') return delta.content;
    if (typeof choice.text === 'string') return choice.text;
    return undefined;
  }
  for (const k of ['token', 'content', 'text']) if (typeof o[k] === 'string') return o[k] as string;
  return undefined;
}

function encodeBody(body: SSEStreamBody | undefined, headers: Record<string, string>): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  return JSON.stringify(body);
}

function flatHeaders(h: HeadersLike | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  if (Array.isArray(h)) for (const [k, v] of h) out[k] = v;
  else if (typeof Headers !== 'undefined' && h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else Object.assign(out, h);
  return out;
}

const IDLE = { text: '', events: [], status: 'idle', error: null, lastEventId: undefined } as const;

/**
 * Streams one request per start() from `url` (null: start() does nothing):
 * POST a body, collect the events and the text they carry, stop at `done`.
 * Options are read when start() runs, so new callbacks per render are fine.
 * Unmounting aborts the request in flight. A bad option is a TypeError
 * thrown from start() (or from the render with `autoStart`).
 */
export function useSSEStream<E extends EventMap = EventMap>(url: string | URL | null | undefined, options: TypedSSEStreamOptions<E>): TypedSSEStreamResult<E>;
export function useSSEStream<T = unknown>(url: string | URL | null | undefined, options?: UseSSEStreamOptions<T>): UseSSEStreamResult<T>;
export function useSSEStream<T = unknown>(
  url: string | URL | null | undefined,
  options: UseSSEStreamOptions<T> | TypedSSEStreamOptions = {},
): UseSSEStreamResult<T> | TypedSSEStreamResult {
  // The typed options are the untyped ones with typed callbacks: one body serves both.
  const untyped = options as UseSSEStreamOptions<T>;
  const optionsRef = useRef(untyped);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = untyped;
  });
  const [state, setState] = useState<State<T>>(IDLE as unknown as State<T>);
  const current = useRef<AbortController | null>(null);
  // Bumped by every start(): a request's late updates never reach a newer one's state.
  const generation = useRef(0);
  const href = url === null || url === undefined ? null : String(url);

  const abort = useCallback(() => {
    const ac = current.current;
    if (ac === null) return;
    current.current = null;
    ac.abort();
    setState((s) => (s.status === 'connecting' || s.status === 'streaming' ? { ...s, status: 'idle' } : s));
  }, []);

  const start = useCallback(
    (overrides: SSEStreamStartOptions = {}) => {
      if (href === null) return;
      const o = optionsRef.current;
      const json = (o as { json?: unknown }).json;
      if (json !== undefined && typeof json !== 'boolean') throw new TypeError(`useSSEStream: \`json\` must be true (typed events) or false, got ${String(json)}`);
      const parse = json === true ? 'json' : (o.parse ?? 'json');
      if (parse !== 'json' && parse !== 'text') throw new TypeError(`useSSEStream: \`parse\` must be 'json' or 'text', got ${String(parse)}`);
      const done = o.done === undefined ? '[DONE]' : o.done;
      if (done !== null && typeof done !== 'string' && typeof done !== 'function') {
        throw new TypeError('useSSEStream: `done` must be a string (e.g. "[DONE]"), a function of the event, or null');
      }
      const maxEvents = o.maxEvents ?? 10_000;
      if (!(Number.isSafeInteger(maxEvents) && maxEvents >= 0)) throw new TypeError(`useSSEStream: \`maxEvents\` must be a non-negative integer, got ${String(maxEvents)}`);
      const retries = o.retries ?? 0;
      if (!(typeof retries === 'number' && retries >= 0)) throw new TypeError(`useSSEStream: \`retries\` must be a non-negative number, got ${String(retries)}`);
      const textOf = o.text ?? (defaultText as (e: SSEStreamEvent<T>) => string | undefined);
      const client = o.fetchEventSource ?? browserFetchEventSource;

      current.current?.abort();
      const gen = ++generation.current;
      const ac = new AbortController();
      current.current = ac;
      const mine = () => current.current === ac;
      const headers = flatHeaders(overrides.headers ?? o.headers);
      const rawBody = 'body' in overrides ? overrides.body : o.body;
      const body = encodeBody(rawBody, headers);
      const method = o.method ?? (body === undefined ? 'GET' : 'POST');
      let text = '';
      let lastId: string | undefined;
      let finished = false;
      let pending: SSEStreamEvent<T>[] = [];
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        if (generation.current !== gen) return;
        const batch = pending;
        pending = [];
        const t = text;
        const id = lastId;
        setState((s) => {
          let events = s.events.concat(batch);
          if (events.length > maxEvents) events = events.slice(events.length - maxEvents);
          return { ...s, status: s.status === 'connecting' ? 'streaming' : s.status, text: t, events, lastEventId: id };
        });
      };
      setState({ text: '', events: [], status: 'connecting', error: null, lastEventId: undefined });

      const finish = () => {
        if (finished || !mine()) return;
        finished = true;
        current.current = null;
        ac.abort();
        setState((s) => ({ ...s, status: 'done' }));
        optionsRef.current.onDone?.(text);
      };
      const fail = (err: unknown) => {
        if (finished || !mine()) return;
        finished = true;
        current.current = null;
        ac.abort();
        setState((s) => ({ ...s, status: 'error', error: err }));
        optionsRef.current.onError?.(err);
      };
      let failures = 0;
      client(href, {
        method,
        headers,
        body,
        signal: ac.signal,
        fetch: o.fetch,
        onopen: (res) => {
          if (!mine()) return;
          setState((s) => ({ ...s, status: 'streaming' }));
          optionsRef.current.onOpen?.(res);
        },
        onmessage: (raw: EventSourceMessage) => {
          if (finished || !mine()) return;
          const ev: SSEStreamEvent<T> = { event: raw.event ?? 'message', id: raw.id, data: decode<T>(raw.data, parse) };
          const isDone = done === null ? false : typeof done === 'string' ? raw.data === done : done(ev);
          if (isDone) return finish();
          const add = textOf(ev);
          if (add !== undefined) text += add;
          if (ev.id !== undefined) lastId = ev.id;
          if (maxEvents > 0) pending.push(ev);
          // One state update per burst (the events of one chunk arrive in
          // one synchronous loop), not one array copy per event.
          if (!scheduled) {
            scheduled = true;
            void Promise.resolve().then(flush);
          }
          optionsRef.current.onEvent?.(ev);
        },
        onerror: (err) => {
          if (++failures > retries) throw err;
          return undefined;
        },
      }).then(finish, fail);
    },
    [href],
  );

  // Unmounting (or a new URL) ends the request in flight.
  useEffect(() => {
    if (optionsRef.current.autoStart === true && href !== null) start();
    return () => {
      current.current?.abort();
      current.current = null;
    };
  }, [href, start]);

  return { start, abort, text: state.text, events: state.events, status: state.status, error: state.error, lastEventId: state.lastEventId };
}
