// sse-native/fastify: a Fastify plugin adding `reply.sse(options?)`, which
// takes the response over from Fastify (reply.hijack()) and returns an
// SSEStream on the raw request and response. Public API only.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SSEStreamOptions } from '../stream/options';
import type { SSEStream } from '../stream/stream';
import { createSSEStream } from './node';

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Starts an SSE stream on this request and returns it. The reply is
     * hijacked: Fastify sends nothing more for this request, its onSend
     * hooks and serializers do not run, and the route's return value is
     * ignored. Headers already set with reply.header() (by hooks such as
     * @fastify/cors) are kept in the SSE response. Bad options: TypeError
     * before anything is written; called twice: Error.
     */
    sse(options?: SSEStreamOptions): SSEStream;
  }
}

/** Options of the plugin: defaults merged under each reply.sse(options). */
export interface SSEPluginOptions {
  /** Stream options every reply.sse() of this instance starts from. */
  defaults?: SSEStreamOptions;
}

// Where the plugin keeps its `defaults` on the instance it was registered on.
const kDefaults = Symbol('sse-native.defaults');

function sse(this: FastifyReply, options?: SSEStreamOptions): SSEStream {
  if (this.sent) {
    throw new Error('reply.sse(): this reply was already sent (or sse() was already called); call it once, before sending anything');
  }
  const defaults = (this.server as FastifyInstance & { [kDefaults]?: SSEStreamOptions })[kDefaults];
  // reply.header() values live on the reply object, which a hijacked reply
  // no longer sends: copy them to the raw response first. reply.raw's own
  // headers (set by the app) win.
  const raw = this.raw;
  for (const [name, value] of Object.entries(this.getHeaders())) {
    if (value !== undefined && !raw.hasHeader(name) && name.toLowerCase() !== 'content-length') raw.setHeader(name, value as string | number | string[]);
  }
  this.hijack();
  return createSSEStream(this.request.raw, raw, { ...defaults, ...options });
}

/**
 * The plugin: `await app.register(ssePlugin)` (or with `{ defaults }`), then
 * `reply.sse(options?)` in any route of the instance and its children. Not
 * encapsulated (like plugins wrapped with fastify-plugin), so registering it
 * once on the root instance is enough.
 */
export function ssePlugin(instance: FastifyInstance, options: SSEPluginOptions, done: (err?: Error) => void): void {
  if (options?.defaults !== undefined && (typeof options.defaults !== 'object' || options.defaults === null)) {
    return done(new TypeError('sse-native/fastify: `defaults` must be an object of stream options (see createSSEStream)'));
  }
  if (instance.hasReplyDecorator('sse')) {
    return done(new Error('sse-native/fastify: reply.sse is already defined; register the plugin once, on the root instance'));
  }
  (instance as FastifyInstance & { [kDefaults]?: SSEStreamOptions })[kDefaults] = options?.defaults;
  instance.decorateReply('sse', sse);
  done();
}

// What fastify-plugin sets: run in the parent's scope, with a readable name.
Object.assign(ssePlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'sse-native',
  [Symbol.for('plugin-meta')]: { name: 'sse-native', fastify: '>=4' },
});

export default ssePlugin;
export type { SSEStream, SSEStreamOptions };
