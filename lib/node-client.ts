// sse-native/client for Node: EventSource and fetchEventSource over
// node:http with the native parser. The browser build is ./browser (fetch
// and the TypeScript parser); both take the same options.
import type { EventSourceMessage } from './common/parser-api';
import type { EventMap, SSEEventOf } from './common/events';
import { createParser } from './native/parser';
import {
  eventsWith,
  fetchEventSourceWith,
  type EventsInit,
  type FetchEventSourceInit,
  type Runtime,
  type TypedEventsInit,
  type TypedFetchEventSourceInit,
} from './client/fetch-event-source';
import { nodeTransport } from './client/node-transport';
import { useParser } from './client/event-source';

const runtime: Runtime = { transport: nodeTransport, createParser };
useParser(createParser);

/**
 * Opens an event stream (any method, e.g. POST with a body) and keeps it
 * open across failures; see FetchEventSourceInit. Resolves when the server
 * ends the stream, answers 204, or `init.signal` aborts; rejects with the
 * error that stopped it. With `json: true` (TypedFetchEventSourceInit)
 * onmessage gets typed events: `fetchEventSource<Events>(url, { json: true,
 * onmessage(ev) { if (ev.event === 'progress') ev.data.pct } })`.
 */
export function fetchEventSource<E extends EventMap = EventMap>(url: string | URL, init: TypedFetchEventSourceInit<E>): Promise<void>;
export function fetchEventSource(url: string | URL, init?: FetchEventSourceInit): Promise<void>;
export function fetchEventSource(url: string | URL, init?: FetchEventSourceInit | TypedFetchEventSourceInit): Promise<void> {
  return fetchEventSourceWith(runtime, url, init);
}

/**
 * The events of a stream as an async iterator (fetchEventSource's options
 * and retries); leaving the loop closes the connection. With `json: true`
 * it yields typed events (SSEEventOf<E>): `for await (const ev of
 * events<Events>(url, { json: true }))`.
 */
export function events<E extends EventMap = EventMap>(url: string | URL, init: TypedEventsInit): AsyncGenerator<SSEEventOf<E>, void, undefined>;
export function events(url: string | URL, init?: EventsInit): AsyncGenerator<EventSourceMessage, void, undefined>;
export function events(url: string | URL, init?: EventsInit | TypedEventsInit): AsyncGenerator<EventSourceMessage | SSEEventOf<EventMap>, void, undefined> {
  return eventsWith(runtime, url, init);
}

export { EventSource, SSEErrorEvent } from './client/event-source';
export type { EventSourceInit, EventSourceEventName, EventSourceEventOf, EventSourceListener, ListenerOptions } from './client/event-source';
export type { EventsInit, FetchEventSourceInit, SSEResponseInfo, TypedEventsInit, TypedFetchEventSourceInit } from './client/fetch-event-source';
export type { EventMap, SSEEventOf } from './common/events';
export { isRetryable } from './client/fetch-event-source';
export {
  SSEBufferOverflowError,
  SSEClientError,
  SSEContentTypeError,
  SSEHttpError,
  SSEInvalidResponseError,
  SSENetworkError,
  SSERetriesExhaustedError,
} from './client/errors';
export type { FetchLike, HeadersLike } from './client/transport';
export { createParser, ParseError } from './native/parser';
export type { EventSourceMessage, EventSourceParser, ParserConfig } from './native/parser';
