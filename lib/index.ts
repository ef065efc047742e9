// sse-native: the public API.
export { encodeEvent, encodeNDJSON } from './encoder';
export type { SSEMessage } from './encoder';
export { createParser, ParseError } from './parser';
export type { EventSourceMessage, EventSourceParser, ParserCallbacks, ParserConfig, ParseErrorType } from './parser';
export { createSSEStream, closeAll, SSEStream } from './stream';
export type { SSEStreamOptions } from './options';
export {
  registerConnection,
  unregisterConnection,
  broadcast,
  getConnectionCount,
  getConnectionKeys,
  configureKey,
  getMetrics,
  metricsText,
} from './hub';
export type { HubTarget, RegisterOptions, KeyOptions, BroadcastOptions, HubMetrics } from './hub';
export { setLimits } from './limits';
export type { ConnectionLimits } from './limits';
export { sseResponse, SSE_HEADERS } from './web';
export type { WebSSEStream, WebSSEStreamOptions } from './web';
// Clients (Node: node:http + the native parser); also at 'sse-native/client'.
export {
  EventSource,
  SSEErrorEvent,
  fetchEventSource,
  events,
  isRetryable,
  SSEClientError,
  SSEHttpError,
  SSEContentTypeError,
  SSENetworkError,
  SSERetriesExhaustedError,
} from './client';
export type { EventSourceInit, EventsInit, FetchEventSourceInit, SSEResponseInfo, FetchLike, HeadersLike } from './client';
