/**
 * Express 4 and 5: `sseMiddleware()` adds `res.sse()`; `sse(handler)` is a route handler.
 * @module sse-native/express
 */
export * from '../../lib/adapters/express';
