// sse-native: the public API.
export { backend } from './native/binding';
export type { Backend } from './native/binding';
export { encodeEvent, encodeNDJSON } from './native/encoder';
export type { SSEMessage, EventMap, TypedMessage, MessageOf } from './native/encoder';
export { createParser, ParseError } from './native/parser';
export type { EventSourceMessage, EventSourceParser, ParserCallbacks, ParserConfig, ParseErrorType } from './native/parser';
export { createSSEStream, acceptSSEStream } from './adapters/node';
export { listenSSE, SSEServer } from './adapters/listen';
export type { SSEServerOptions, SSERequest, SSERequestHandler } from './adapters/listen';
export type { ListenerStats } from './native/binding-types';
export type { AllowOrigins, TrustProxy, AuthorizeResult } from './stream/access';
export { corsPreflight, corsPreflightResponse } from './adapters/preflight';
export type { PreflightOptions } from './adapters/preflight';
export { closeAll, SSEStream } from './stream/stream';
export { pipe } from './stream/pipe';
export type { PipeOptions, PipeResult } from './stream/pipe';
export { forward, SSEUpstreamError } from './stream/forward';
export type { ForwardOptions, ForwardResult, Upstream } from './stream/forward';
export type { StreamSource } from './stream/source';
export { SSEError } from './common/errors';
export type { SSEErrorCode } from './common/errors';
export type { SSEStreamOptions } from './stream/options';
export {
  registerConnection,
  unregisterConnection,
  broadcast,
  getConnectionCount,
  getConnectionKeys,
  configureKey,
  getBackpressure,
  drained,
} from './hub/hub';
export type { HubTarget, RegisterOptions, KeyOptions, BroadcastOptions } from './hub/hub';
export { getMetrics, metricsText } from './hub/metrics';
export type { HubMetrics, HistogramMetrics } from './hub/metrics';
export type { StreamStats } from './stream/stream';
export { setLimits } from './hub/limits';
export type { ConnectionLimits } from './hub/limits';
export { sseResponse } from './adapters/web';
export { SSE_HEADERS } from './common/headers';
export type { WebSSEStream, WebSSEStreamOptions } from './adapters/web';
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
} from './node-client';
export type {
  EventSourceInit,
  EventsInit,
  FetchEventSourceInit,
  SSEResponseInfo,
  FetchLike,
  HeadersLike,
  TypedEventsInit,
  TypedFetchEventSourceInit,
  SSEEventOf,
} from './node-client';
