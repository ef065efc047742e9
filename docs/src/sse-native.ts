/**
 * The server API: streams (`createSSEStream`, `sseResponse`), the hub (`broadcast`, `registerConnection`, ...), the encoder and parser, and the Node clients.
 * @module sse-native
 */
export * from '../../lib/index';
