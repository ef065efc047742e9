// sse-native/react: useEventSource, a React hook over an EventSource, and
// useSSEStream (./use-sse-stream), one streamed request (POST) per start(). No JSX,
// nothing from node: or the addon, so browser bundles stay clean. Hooks
// that use the same URL (and withCredentials, and EventSource constructor)
// share one connection through a refcounted registry: browsers allow about
// six HTTP/1.1 connections per origin.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { decodeData, type EventMap, type SSEEventOf } from '../common/events';

export { useSSEStream, defaultText } from './use-sse-stream';
export type {
  UseSSEStreamOptions,
  UseSSEStreamResult,
  SSEStreamStatus,
  SSEStreamEvent,
  SSEStreamBody,
  SSEStreamStartOptions,
  FetchEventSourceFn,
  TypedSSEStreamOptions,
  TypedSSEStreamResult,
} from './use-sse-stream';
export type { EventMap, SSEEventOf } from '../common/events';

/** 0 CONNECTING, 1 OPEN, 2 CLOSED, as EventSource.readyState. */
export type ReadyState = 0 | 1 | 2;

// The types below are structural on purpose: the hook's declarations must
// compile in a server tsconfig without the DOM lib (Node's globals have no
// generic MessageEvent), and the browser's, Node's and sse-native/client's
// EventSource and events all fit them.

/** The part of an Event the hook reads (the browser's Event or Node's). */
export interface SSEEventLike {
  readonly type: string;
}

/** A message event as an EventSource dispatches it; a browser MessageEvent<string> is one. */
export interface SSEMessageEventLike extends SSEEventLike {
  readonly data: string;
  readonly lastEventId: string;
}

/** What the hook needs of an EventSource: the browser's, sse-native/client's, or the npm eventsource package's. */
export interface EventSourceLike {
  readonly readyState: number;
  close(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void;
}

/** An EventSource constructor; `init` carries withCredentials. */
export type EventSourceConstructor = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

export interface UseEventSourceOptions<T = unknown> {
  /**
   * Called for every event the hook listens to ('message' and `events`),
   * from the EventSource listener itself: a burst of events between two
   * renders still calls it once per event, in order. `data` is the event's
   * data after `parse`.
   */
  onMessage?(event: SSEMessageEventLike, data: T): void;
  /** The connection failed or dropped (EventSource reconnects unless readyState is CLOSED), or no EventSource exists. */
  onError?(error: SSEEventLike | Error): void;
  /** The connection is open: on every (re)connect, and at once when joining an open shared connection. */
  onOpen?(): void;
  /** This hook's connection closed: close() was called, or the EventSource gave up (e.g. HTTP 204 or an error status). Not on unmount. */
  onClose?(): void;
  /** Send cookies cross-origin. Part of the sharing key. @defaultValue false */
  withCredentials?: boolean;
  /** Named events (`event: chunk`) to listen to, besides unnamed 'message' events. */
  events?: readonly string[];
  /**
   * 'json': JSON.parse the data, falling back to the raw string when it is
   * not JSON (so `data: [DONE]` arrives as the string '[DONE]'); 'text': the
   * raw string. @defaultValue 'json'
   */
  parse?: 'json' | 'text';
  /** The EventSource constructor to use. @defaultValue globalThis.EventSource */
  EventSource?: EventSourceConstructor;
  /** `true` (TypedEventSourceOptions) types the events by an event map. @defaultValue false */
  json?: false;
}

/**
 * useEventSource's options for a typed stream, `json: true`:
 * `useEventSource<{ progress: { pct: number }; done: string }>(url, { json:
 * true, events: ['progress', 'done'] })`. The names are checked against the
 * map, data is decoded by the server's rule (JSON, else the string itself)
 * and typed by it; `event` (and onEvent's argument) narrows by name.
 */
export interface TypedEventSourceOptions<E extends EventMap = EventMap> extends Omit<UseEventSourceOptions, 'events' | 'parse' | 'onMessage' | 'json'> {
  json: true;
  /** The names to listen to, and only these ('message' for unnamed events). */
  events: readonly (keyof E & string)[];
  /** Called for every event, in order, from the listener itself (as onMessage). */
  onEvent?(event: SSEEventOf<E>): void;
}

export interface TypedEventSourceResult<E extends EventMap = EventMap> extends UseEventSourceResult<E[keyof E & string]> {
  /** The latest event with its name: `if (event?.event === 'progress') event.data.pct`. null before the first. */
  event: SSEEventOf<E> | null;
}

export interface UseEventSourceResult<T = unknown> {
  /** Data of the latest event (after `parse`); null before the first. Every event also reaches onMessage. */
  data: T | null;
  /** The latest error; cleared when the connection opens again. */
  error: SSEEventLike | Error | null;
  /** readyState === 1. */
  isConnected: boolean;
  readyState: ReadyState;
  /** The lastEventId of the latest event received; null before the first. */
  lastEventId: string | null;
  /**
   * Stops this hook listening. The shared connection closes once no hook
   * uses it; other components on the same URL keep theirs. The hook stays
   * closed until its URL (or withCredentials) changes.
   */
  close: () => void;
}

// --- The registry of shared connections --------------------------------------

interface Subscriber {
  readonly names: ReadonlySet<string>;
  onEvent(event: SSEMessageEventLike): void;
  onOpen(): void;
  onError(event: SSEEventLike, readyState: ReadyState): void;
}

/** One EventSource and the hooks using it. */
class SharedConnection {
  readonly es: EventSourceLike;
  readonly subscribers = new Set<Subscriber>();
  private readonly listening = new Map<string, number>();
  private closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    ctor: EventSourceConstructor,
    url: string,
    withCredentials: boolean,
    private readonly onDead: () => void,
  ) {
    this.es = new ctor(url, { withCredentials });
    this.es.addEventListener('open', this.handleOpen);
    this.es.addEventListener('error', this.handleError);
  }

  add(sub: Subscriber): void {
    if (this.closeTimer !== undefined) {
      clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    this.subscribers.add(sub);
    for (const name of sub.names) {
      const n = this.listening.get(name) ?? 0;
      this.listening.set(name, n + 1);
      // 'error' and 'open' are always listened to; a server event named
      // 'error' is told apart from a connection error by its data.
      if (n === 0 && name !== 'error' && name !== 'open') this.es.addEventListener(name, this.dispatch);
    }
  }

  remove(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    for (const name of sub.names) {
      const n = (this.listening.get(name) ?? 1) - 1;
      if (n > 0) {
        this.listening.set(name, n);
        continue;
      }
      this.listening.delete(name);
      if (name !== 'error' && name !== 'open') this.es.removeEventListener(name, this.dispatch);
    }
    // Closed a turn later, so StrictMode's unmount-and-mount again, or a
    // component replaced by one on the same URL, keeps the connection.
    if (this.subscribers.size === 0 && this.closeTimer === undefined) {
      this.closeTimer = setTimeout(() => {
        this.closeTimer = undefined;
        if (this.subscribers.size === 0) this.shutDown();
      }, 0);
    }
  }

  shutDown(): void {
    this.es.removeEventListener('open', this.handleOpen);
    this.es.removeEventListener('error', this.handleError);
    this.es.close();
    this.onDead();
  }

  private readonly dispatch = (event: SSEEventLike): void => {
    for (const sub of [...this.subscribers]) {
      if (sub.names.has(event.type) && this.subscribers.has(sub)) sub.onEvent(event as SSEMessageEventLike);
    }
  };

  private readonly handleOpen = (): void => {
    for (const sub of [...this.subscribers]) if (this.subscribers.has(sub)) sub.onOpen();
  };

  private readonly handleError = (event: SSEEventLike): void => {
    if (typeof (event as Partial<SSEMessageEventLike>).data === 'string') return this.dispatch(event);
    const state = this.es.readyState as ReadyState;
    // Given up: a later mount opens a fresh connection.
    if (state === 2) this.onDead();
    for (const sub of [...this.subscribers]) if (this.subscribers.has(sub)) sub.onError(event, state);
  };
}

const registries = new WeakMap<EventSourceConstructor, Map<string, SharedConnection>>();

/** Joins (or opens) the connection for `url`; the returned function leaves it. */
function subscribe(ctor: EventSourceConstructor, url: string, withCredentials: boolean, sub: Subscriber): () => void {
  let registry = registries.get(ctor);
  if (registry === undefined) registries.set(ctor, (registry = new Map()));
  const key = `${withCredentials ? 'credentials' : 'anonymous'} ${url}`;
  let shared = registry.get(key);
  if (shared === undefined) {
    const reg = registry;
    const created: SharedConnection = new SharedConnection(ctor, url, withCredentials, () => {
      if (reg.get(key) === created) reg.delete(key);
    });
    shared = created;
    registry.set(key, shared);
  }
  const conn = shared;
  conn.add(sub);
  return () => conn.remove(sub);
}

// --- The hook ----------------------------------------------------------------

interface HookState<T> {
  data: T | null;
  event: SSEEventOf<EventMap> | null;
  error: SSEEventLike | Error | null;
  readyState: ReadyState;
  lastEventId: string | null;
}

const useIsomorphicLayoutEffect =
  typeof (globalThis as { window?: unknown }).window === 'undefined' ? useEffect : useLayoutEffect;

function decode<T>(text: string, parse: 'json' | 'text'): T {
  return (parse === 'text' ? text : decodeData(text)) as T;
}

// Relative URLs resolve against the page, as EventSource does, so '/events'
// and its absolute form share a connection.
function absolute(url: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  if (base === undefined) return url;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

function defaultEventSource(): EventSourceConstructor | undefined {
  return (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
}

/**
 * Listens to the Server-Sent Events at `url` (null or undefined: no
 * connection). Connects after mount, on the client only; hooks with the same
 * URL share one EventSource, closed a turn after the last one unmounts or
 * calls close(). Callbacks are read from the latest render, so passing new
 * functions each render does not reconnect; changing `url`,
 * `withCredentials`, `events`, `parse` or `EventSource` does.
 */
export function useEventSource<E extends EventMap = EventMap>(url: string | URL | null | undefined, options: TypedEventSourceOptions<E>): TypedEventSourceResult<E>;
export function useEventSource<T = unknown>(url: string | URL | null | undefined, options?: UseEventSourceOptions<T>): UseEventSourceResult<T>;
export function useEventSource<T = unknown>(
  url: string | URL | null | undefined,
  options: UseEventSourceOptions<T> | TypedEventSourceOptions = {},
): UseEventSourceResult<T> & { event: SSEEventOf<EventMap> | null } {
  const { withCredentials = false } = options;
  const typed = options.json === true;
  if (options.json !== undefined && typeof options.json !== 'boolean') throw new TypeError(`useEventSource: \`json\` must be true (typed events) or false, got ${String(options.json)}`);
  const parse = typed ? 'json' : ((options as UseEventSourceOptions<T>).parse ?? 'json');
  if (parse !== 'json' && parse !== 'text') throw new TypeError(`useEventSource: \`parse\` must be 'json' or 'text', got ${String(parse)}`);
  if (typed && !Array.isArray(options.events)) throw new TypeError("useEventSource: with `json: true` pass `events`, the names to listen to (e.g. ['progress', 'done']; 'message' for unnamed events)");
  const ctor = options.EventSource ?? defaultEventSource();
  const href = url === null || url === undefined ? null : absolute(String(url));
  const eventsKey = (typed ? ['typed'] : []).concat(options.events ?? []).join('\n');
  const key = href === null ? null : `${withCredentials ? 'credentials' : 'anonymous'} ${href}`;

  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = options;
  });

  const [closedKey, setClosedKey] = useState<string | null>(null);
  const active = key !== null && closedKey !== key;
  const [state, setState] = useState<HookState<T>>(() => ({ data: null, event: null, error: null, readyState: active ? 0 : 2, lastEventId: null }));
  const leaveRef = useRef<(() => void) | null>(null);

  useEffect(() => {
    if (!active || href === null) {
      setState((s) => (s.readyState === 2 ? s : { ...s, readyState: 2 }));
      return;
    }
    setState({ data: null, event: null, error: null, readyState: 0, lastEventId: null });
    if (ctor === undefined) {
      const err = new Error('useEventSource: no EventSource here; pass options.EventSource (e.g. from sse-native/client)');
      setState((s) => ({ ...s, error: err, readyState: 2 }));
      optionsRef.current.onError?.(err);
      return;
    }
    // Typed: exactly the names given; else 'message' and the names given.
    const listed = eventsKey === '' ? [] : eventsKey.split('\n');
    const names = new Set(listed[0] === 'typed' ? listed.slice(1) : ['message', ...listed]);
    let left = false;
    const sub: Subscriber = {
      names,
      onEvent: (event) => {
        const data = decode<T>(event.data, parse);
        const lastEventId = event.lastEventId ?? null;
        const typedEvent = { event: event.type, data, id: event.lastEventId === '' ? undefined : event.lastEventId };
        setState((s) => ({ ...s, data, event: typedEvent, lastEventId, readyState: 1 }));
        const o = optionsRef.current;
        if (o.json === true) o.onEvent?.(typedEvent);
        else o.onMessage?.(event, data);
      },
      onOpen: () => {
        setState((s) => ({ ...s, error: null, readyState: 1 }));
        optionsRef.current.onOpen?.();
      },
      onError: (event, readyState) => {
        setState((s) => ({ ...s, error: event, readyState }));
        optionsRef.current.onError?.(event);
        if (readyState === 2) {
          leave();
          optionsRef.current.onClose?.();
        }
      },
    };
    const unsubscribe = subscribe(ctor, href, withCredentials, sub);
    const leave = () => {
      if (left) return;
      left = true;
      unsubscribe();
      if (leaveRef.current === leave) leaveRef.current = null;
    };
    leaveRef.current = leave;
    // Joining a connection another hook already opened.
    if (!left) {
      const shared = registries.get(ctor)?.get(key!);
      if (shared?.es.readyState === 1) sub.onOpen();
    }
    return leave;
  }, [active, href, key, ctor, withCredentials, eventsKey, parse]);

  const close = useCallback(() => {
    if (key === null || closedKey === key) return;
    leaveRef.current?.();
    setClosedKey(key);
    setState((s) => ({ ...s, readyState: 2 }));
    optionsRef.current.onClose?.();
  }, [key, closedKey]);

  return {
    data: state.data,
    event: state.event,
    error: state.error,
    isConnected: state.readyState === 1,
    readyState: state.readyState,
    lastEventId: state.lastEventId,
    close,
  };
}
