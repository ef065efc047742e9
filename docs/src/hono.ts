/**
 * Hono: `streamSSE(c, async (stream) => ...)`, shaped like Hono's own.
 * @module sse-native/hono
 */
export * from '../../lib/adapters/hono';
