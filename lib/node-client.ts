// sse-native/client for Node: EventSource and fetchEventSource over
// node:http with the native parser. The browser build is ./browser (fetch
// and the TypeScript parser); both take the same options.
import type { EventSourceMessage } from './common/parser-api';
import { createParser } from './native/parser';
import {
  eventsWith,
  fetchEventSourceWith,
  type EventsInit,
  type FetchEventSourceInit,
  type Runtime,
} from './client/fetch-event-source';
import { nodeTransport } from './client/node-transport';
import { useParser } from './client/event-source';

const runtime: Runtime = { transport: nodeTransport, createParser };
useParser(createParser);

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

export { EventSource, SSEErrorEvent } from './client/event-source';
export type { EventSourceInit } from './client/event-source';
export type { EventsInit, FetchEventSourceInit, SSEResponseInfo } from './client/fetch-event-source';
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
