// EventSource for Node: the WHATWG interface over node:http (or a given
// fetch) and the native parser, usable where the npm package `eventsource`
// is used. Reconnects after the server's `retry` on network errors and on a
// normal end of the response; fails (CLOSED, no reconnect) on a status other
// than 200 or a wrong Content-Type, as browsers do.
import type { EventSourceParser, ParserConfig } from '../common/parser-api';
import type { EventMap } from '../common/events';
import { createParser as createParserTs } from './parser-ts';
import { SSEBufferOverflowError, SSEClientError, SSEContentTypeError, SSEHttpError, SSEInvalidResponseError, isEventStream } from './errors';
import { kHealthyMs, lastEventIdHeader, reconnectDelay, resolveMaxBufferSize } from './options';
import { nodeTransport } from './node-transport';
import { fetchTransport, normalizeHeaders, type FetchLike, type Transport, type TransportResponse } from './transport';

// The parser EventSource uses: the TypeScript one unless the package's Node
// entry hands it the native one (this floor never loads the addon).
let parserFactory: (config: ParserConfig) => EventSourceParser = createParserTs;

/** @internal Called by the Node entry with the backend's parser. */
export function useParser(factory: (config: ParserConfig) => EventSourceParser): void {
  parserFactory = factory;
}

export interface EventSourceInit {
  /** Kept and reported as `withCredentials`; Node has no cookie jar, so it changes nothing. @defaultValue false */
  withCredentials?: boolean;
  /** Extra request headers (e.g. Authorization), sent on every connection. */
  headers?: Record<string, string>;
  /** Connect with this fetch instead of node:http (as the npm package `eventsource` allows). */
  fetch?: FetchLike;
  /** Reconnection time in ms until the server sends `retry:`. @defaultValue 3000 */
  retry?: number;
  /**
   * Most bytes of an unfinished line plus unfinished event data the client
   * holds; past it the source fails (CLOSED) with SSEBufferOverflowError.
   * Infinity turns the limit off. Lines that cannot be fields are dropped,
   * not held. @defaultValue 8388608 (8 MiB)
   */
  maxBufferSize?: number;
}

/** The `error` event: `error` says why (absent when the server just ended the response). */
export class SSEErrorEvent extends Event {
  readonly error: SSEClientError | undefined;
  readonly message: string | undefined;
  /** The HTTP status when the server answered with a bad one (the npm package `eventsource` calls it `code`). */
  readonly code: number | undefined;
  /** The wait in ms before the next attempt (CONNECTING), or undefined when the source failed (CLOSED). */
  readonly reconnectMs: number | undefined;
  constructor(error?: SSEClientError, reconnectMs?: number) {
    super('error');
    this.error = error;
    this.message = error?.message;
    this.code = error instanceof SSEHttpError ? error.status : undefined;
    this.reconnectMs = reconnectMs;
  }
}

type Handler<E extends Event> = ((this: EventSource, ev: E) => unknown) | null;
type HandlerType = 'open' | 'message' | 'error';

/** The names an EventSource<E> listens to: E's events, 'open' and 'error' ('message' is E's unnamed events). */
export type EventSourceEventName<E extends EventMap> = (keyof E & string) | 'open' | 'error';

/** The event a listener of `K` gets: Event for 'open', SSEErrorEvent for 'error', else a MessageEvent whose `data` is the raw text. */
// Plain MessageEvent and structural options: the declarations must compile
// in a server tsconfig without the DOM lib (Node's MessageEvent is not generic).
export type EventSourceEventOf<K extends string> = K extends 'open' ? Event : K extends 'error' ? SSEErrorEvent : MessageEvent;

/** addEventListener's options, as EventTarget takes them. */
export type ListenerOptions = boolean | { capture?: boolean; once?: boolean; passive?: boolean; signal?: AbortSignal };

/** A listener of `K` on an EventSource<E>: a function or an object with handleEvent. */
export type EventSourceListener<E extends EventMap, K extends string> =
  | ((this: EventSource<E>, ev: EventSourceEventOf<K>) => unknown)
  | { handleEvent(ev: EventSourceEventOf<K>): unknown };

const kConnecting = 0;
const kOpen = 1;
const kClosed = 2;
const kMaxTimerMs = 2 ** 31 - 1;

/**
 * A Server-Sent Events client with the browser's interface. Events are
 * MessageEvents ({ type, data, lastEventId, origin }); `message` for
 * unnamed events, addEventListener(name) for named ones. Listeners that
 * throw are reported as uncaught exceptions (as EventTarget does) and do not
 * stop the stream. Call close() to stop; nothing else stops reconnecting
 * except a failed response.
 */
export class EventSource<E extends EventMap = EventMap> extends EventTarget {
  static readonly CONNECTING = kConnecting;
  static readonly OPEN = kOpen;
  static readonly CLOSED = kClosed;
  readonly CONNECTING = kConnecting;
  readonly OPEN = kOpen;
  readonly CLOSED = kClosed;

  /** The URL as resolved at construction (redirects do not change it). */
  readonly url: string;
  readonly withCredentials: boolean;

  private readyState_: number = kConnecting;
  private lastEventId_ = '';
  private reconnectMs_: number;
  private streak_ = 0; // reconnects in a row since the last healthy connection
  private readonly maxBufferSize_: number | undefined;
  private readonly headers_: Record<string, string>;
  private readonly transport_: Transport;
  private request_: AbortController | undefined; // the current connection; undefined between them
  private timer_: ReturnType<typeof setTimeout> | undefined;
  private readonly handlers_: Record<HandlerType, Handler<Event>> = { open: null, message: null, error: null };
  private readonly hooked_ = new Set<HandlerType>();

  constructor(url: string | URL, init: EventSourceInit = {}) {
    super();
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new DOMException(`Invalid URL: ${String(url)}`, 'SyntaxError');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new DOMException(`Unsupported protocol ${parsed.protocol} in ${parsed.href}`, 'SyntaxError');
    }
    if (init === null || typeof init !== 'object') throw new TypeError(`\`init\` must be an object of options like { headers, withCredentials }, got ${init === null ? 'null' : typeof init}`);
    const retry = init.retry ?? 3000;
    if (!(typeof retry === 'number' && retry >= 0 && Number.isFinite(retry))) {
      throw new TypeError(`\`retry\` must be a non-negative number of milliseconds, got ${String(retry)}`);
    }
    this.url = parsed.href;
    this.withCredentials = Boolean(init.withCredentials);
    this.reconnectMs_ = retry;
    this.maxBufferSize_ = resolveMaxBufferSize(init.maxBufferSize);
    this.headers_ = normalizeHeaders(init.headers);
    this.transport_ = init.fetch !== undefined ? fetchTransport(init.fetch) : nodeTransport;
    this.connect_();
  }

  /** CONNECTING (0), OPEN (1) or CLOSED (2). */
  get readyState(): number {
    return this.readyState_;
  }
  /** The last event ID received (sent as Last-Event-ID when reconnecting). */
  get lastEventId(): string {
    return this.lastEventId_;
  }

  get onopen(): Handler<Event> {
    return this.handlers_.open;
  }
  set onopen(fn: Handler<Event>) {
    this.setHandler_('open', fn);
  }
  get onmessage(): Handler<MessageEvent> {
    return this.handlers_.message as Handler<MessageEvent>;
  }
  set onmessage(fn: Handler<MessageEvent>) {
    this.setHandler_('message', fn as Handler<Event>);
  }
  get onerror(): Handler<SSEErrorEvent> {
    return this.handlers_.error as Handler<SSEErrorEvent>;
  }
  set onerror(fn: Handler<SSEErrorEvent>) {
    this.setHandler_('error', fn as Handler<Event>);
  }

  /**
   * As EventTarget's, with the names checked against E on a typed
   * EventSource (`new EventSource<{ progress: unknown }>(url)` refuses
   * `addEventListener('progres', ...)`); an untyped one takes any name.
   * `data` stays the raw text, as WHATWG says (JSON.parse it; events()
   * and fetchEventSource() with `json: true` deliver typed data).
   */
  addEventListener<K extends EventSourceEventName<E>>(type: K, listener: EventSourceListener<E, K> | null, options?: ListenerOptions): void;
  addEventListener(type: string, listener: EventListener | EventListenerObject | null, options?: ListenerOptions): void {
    super.addEventListener(type, listener, options);
  }

  /** Removes a listener added with addEventListener (same name, same function). */
  removeEventListener<K extends EventSourceEventName<E>>(type: K, listener: EventSourceListener<E, K> | null, options?: boolean | { capture?: boolean }): void;
  removeEventListener(type: string, listener: EventListener | EventListenerObject | null, options?: boolean | { capture?: boolean }): void {
    super.removeEventListener(type, listener, options);
  }

  /** Stops for good: aborts the connection or the pending reconnect. Idempotent; no event fires. */
  close(): void {
    this.readyState_ = kClosed;
    clearTimeout(this.timer_);
    this.timer_ = undefined;
    const req = this.request_;
    this.request_ = undefined;
    req?.abort();
  }

  // As a browser does: the handler takes its place among the listeners when
  // first set, and setting another one later keeps that place.
  private setHandler_(type: HandlerType, fn: Handler<Event>): void {
    this.handlers_[type] = typeof fn === 'function' ? fn : null;
    if (this.handlers_[type] !== null && !this.hooked_.has(type)) {
      this.hooked_.add(type);
      super.addEventListener(type, (ev) => this.handlers_[type]?.call(this as EventSource, ev));
    }
  }

  private connect_(): void {
    const ac = new AbortController();
    this.request_ = ac;
    const headers: Record<string, string> = { ...this.headers_, accept: 'text/event-stream', 'cache-control': 'no-cache' };
    // UTF-8, as browsers send it (a non-Latin-1 id used to break every reconnect).
    const id = lastEventIdHeader(this.lastEventId_);
    if (id !== undefined) headers['last-event-id'] = id;
    let sent: Promise<TransportResponse>;
    try {
      sent = this.transport_({ url: this.url, method: 'GET', headers, signal: ac.signal });
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      (res) => this.read_(res, ac),
      (err) => {
        if (this.request_ !== ac) return;
        if (err instanceof SSEInvalidResponseError) this.fail_(err);
        else this.reconnect_(err, false);
      },
    ).catch((err) => {
      // Nothing read_ does should throw; if something does, fail once with
      // it rather than leave the source CONNECTING forever.
      if (this.request_ === ac || (this.request_ === undefined && this.readyState_ !== kClosed && this.timer_ === undefined)) {
        this.fail_(err instanceof SSEClientError ? err : new SSEInvalidResponseError(this.url, String((err as Error)?.message ?? err)));
      }
    });
  }

  private async read_(res: TransportResponse, ac: AbortController): Promise<void> {
    if (this.request_ !== ac) return res.cancel();
    if (res.status !== 200) {
      res.cancel();
      return this.fail_(new SSEHttpError(res.status, res.statusText, res.url));
    }
    const type = res.headers.get('content-type');
    if (!isEventStream(type)) {
      res.cancel();
      return this.fail_(new SSEContentTypeError(type ?? '', res.url));
    }
    if (res.unreadable !== undefined) {
      res.cancel();
      return this.fail_(res.unreadable);
    }
    let origin: string;
    try {
      origin = new URL(res.url).origin;
    } catch {
      origin = new URL(this.url).origin;
    }
    this.readyState_ = kOpen;
    const openedAt = Date.now();
    this.dispatchEvent(new Event('open'));
    if (this.request_ !== ac) return res.cancel(); // an open listener closed us
    let delivered = false;
    let overflow = false;
    const parser = parserFactory({
      onEvent: (ev) => {
        if (this.request_ !== ac) return;
        delivered = true;
        this.dispatchEvent(new MessageEvent(ev.event ?? 'message', { data: ev.data, lastEventId: this.lastEventId_, origin }));
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') overflow = true;
      },
      maxBufferSize: this.maxBufferSize_,
      onId: (id) => {
        this.lastEventId_ = id;
      },
      onRetry: (ms) => {
        // setTimeout fires at once past 2^31-1 ms: cap, never loop.
        if (ms >= 0) this.reconnectMs_ = Math.min(ms, kMaxTimerMs);
      },
    });
    const healthy = () => delivered || Date.now() - openedAt >= kHealthyMs;
    try {
      for await (const chunk of res.body) {
        if (this.request_ !== ac) return res.cancel();
        parser.feed(chunk);
        if (overflow && this.request_ === ac) {
          res.cancel();
          return this.fail_(new SSEBufferOverflowError(this.maxBufferSize_ ?? 0, res.url));
        }
      }
    } catch (err) {
      if (this.request_ !== ac) return;
      if (err instanceof SSEInvalidResponseError) return this.fail_(err);
      this.reconnect_(err, healthy());
      return;
    }
    if (this.request_ === ac) this.reconnect_(undefined, healthy());
  }

  // "Reestablish the connection": error event, wait, connect again. The wait
  // is the server's `retry` after a healthy connection (one that delivered
  // an event or stayed open a while), and backs off on each unhealthy one in
  // a row, so `retry: 0` and a server that ends every response at once cost
  // a handful of reconnects a second, not hundreds.
  private reconnect_(cause: unknown, healthy: boolean): void {
    this.request_ = undefined;
    if (this.readyState_ === kClosed) return;
    this.readyState_ = kConnecting;
    this.streak_ = healthy ? 1 : this.streak_ + 1;
    const delay = Math.min(reconnectDelay(this.streak_, this.reconnectMs_), kMaxTimerMs);
    this.dispatchEvent(new SSEErrorEvent(cause instanceof SSEClientError ? cause : undefined, delay));
    if (this.readyState_ !== kConnecting || this.timer_ !== undefined || this.request_ !== undefined) return; // a listener closed us
    this.timer_ = setTimeout(() => {
      this.timer_ = undefined;
      if (this.readyState_ === kConnecting && this.request_ === undefined) this.connect_();
    }, delay);
  }

  // "Fail the connection": CLOSED, error event, no reconnect.
  private fail_(error: SSEClientError): void {
    this.request_ = undefined;
    this.readyState_ = kClosed;
    this.dispatchEvent(new SSEErrorEvent(error));
  }
}
