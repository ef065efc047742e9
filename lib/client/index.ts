// sse-native/client for Node: EventSource and fetchEventSource over
// node:http with the native parser. The browser build is ./browser (fetch
// and the TypeScript parser); both take the same options.
import type { EventSourceMessage } from '../parser';
import { createParser } from '../parser';
import {
  eventsWith,
  fetchEventSourceWith,
  type EventsInit,
  type FetchEventSourceInit,
  type Runtime,
} from './fetch-event-source';
import { nodeTransport } from './node-transport';

const runtime: Runtime = { transport: nodeTransport, createParser };

/**
 * Opens an event stream (any method, e.g. POST with a body) and keeps it
 * open across failures; see FetchEventSourceInit. Resolves when the server
 * ends the stream, answers 204, or `init.signal` aborts; rejects with the
 * error that stopped it.
 */
export function fetchEventSource(url: string | URL, init?: FetchEventSourceInit): Promise<void> {
  return fetchEventSourceWith(runtime, url, init);
}

/**
 * The events of a stream as an async iterator (fetchEventSource's options
 * and retries); leaving the loop closes the connection.
 */
export function events(url: string | URL, init?: EventsInit): AsyncGenerator<EventSourceMessage, void, undefined> {
  return eventsWith(runtime, url, init);
}

export { EventSource, SSEErrorEvent } from './event-source';
export type { EventSourceInit } from './event-source';
export type { EventsInit, FetchEventSourceInit, SSEResponseInfo } from './fetch-event-source';
export { isRetryable } from './fetch-event-source';
export {
  SSEClientError,
  SSEContentTypeError,
  SSEHttpError,
  SSENetworkError,
  SSERetriesExhaustedError,
} from './errors';
export type { FetchLike, HeadersLike } from './transport';
export { createParser, ParseError } from '../parser';
export type { EventSourceMessage, EventSourceParser, ParserConfig } from '../parser';
