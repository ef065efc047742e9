// sse-native/client for browsers: fetchEventSource and events() over fetch
// with the TypeScript parser (browsers cannot load the addon; use the
// browser's own EventSource, re-exported here). Imports nothing from node: or the addon.
import type { EventSourceMessage } from '../common/parser-api';
import type { EventMap, SSEEventOf } from '../common/events';
import { createParser } from './parser-ts';
import {
  eventsWith,
  fetchEventSourceWith,
  type EventsInit,
  type FetchEventSourceInit,
  type Runtime,
  type TypedEventsInit,
  type TypedFetchEventSourceInit,
} from './fetch-event-source';
import { fetchTransport } from './transport';

let runtime: Runtime | undefined;
// Built on first use, so that importing this module never touches fetch.
const getRuntime = (): Runtime => (runtime ??= { transport: fetchTransport(), createParser });

/** See fetchEventSource in the Node entry: same options (`json: true` for typed events), over the global fetch. */
export function fetchEventSource<E extends EventMap = EventMap>(url: string | URL, init: TypedFetchEventSourceInit<E>): Promise<void>;
export function fetchEventSource(url: string | URL, init?: FetchEventSourceInit): Promise<void>;
export function fetchEventSource(url: string | URL, init?: FetchEventSourceInit | TypedFetchEventSourceInit): Promise<void> {
  return init?.fetch !== undefined
    ? fetchEventSourceWith({ transport: fetchTransport(init.fetch), createParser }, url, init)
    : fetchEventSourceWith(getRuntime(), url, init);
}

/** See events in the Node entry (`json: true` for typed events). */
export function events<E extends EventMap = EventMap>(url: string | URL, init: TypedEventsInit): AsyncGenerator<SSEEventOf<E>, void, undefined>;
export function events(url: string | URL, init?: EventsInit): AsyncGenerator<EventSourceMessage, void, undefined>;
export function events(url: string | URL, init?: EventsInit | TypedEventsInit): AsyncGenerator<EventSourceMessage | SSEEventOf<EventMap>, void, undefined> {
  return init?.fetch !== undefined
    ? eventsWith({ transport: fetchTransport(init.fetch), createParser }, url, init)
    : eventsWith(getRuntime(), url, init);
}

/**
 * The browser's own EventSource, so `import { EventSource } from
 * 'sse-native/client'` means the same thing in a browser bundle as in Node
 * (where it is sse-native's). Read once, when this module is imported.
 */
export const EventSource: typeof globalThis.EventSource = globalThis.EventSource;

export type { EventsInit, FetchEventSourceInit, SSEResponseInfo, TypedEventsInit, TypedFetchEventSourceInit } from './fetch-event-source';
export type { EventMap, SSEEventOf } from '../common/events';
export { isRetryable } from './fetch-event-source';
export {
  SSEBufferOverflowError,
  SSEClientError,
  SSEContentTypeError,
  SSEHttpError,
  SSEInvalidResponseError,
  SSENetworkError,
  SSERetriesExhaustedError,
} from './errors';
export type { FetchLike, HeadersLike } from './transport';
export { createParser } from './parser-ts';
export { ParseError } from '../common/parser-api';
export type { EventSourceMessage, EventSourceParser, ParserConfig } from '../common/parser-api';
