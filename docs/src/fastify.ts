/**
 * Fastify: `app.register(ssePlugin)` adds `reply.sse()`.
 * @module sse-native/fastify
 */
export * from '../../lib/adapters/fastify';
