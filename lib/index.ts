// sse-native: the public API.
export { encodeEvent, encodeNDJSON } from './encoder';
export type { SSEMessage } from './encoder';
export { createParser, ParseError } from './parser';
export type { EventSourceMessage, EventSourceParser, ParserCallbacks, ParserConfig, ParseErrorType } from './parser';
export { createSSEStream, closeAll, SSEStream } from './stream';
export type { SSEStreamOptions } from './options';
