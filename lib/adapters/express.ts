// sse-native/express: helpers for Express 4 and 5 (and any connect-style
// (req, res, next) stack). Public API only: createSSEStream(req, res).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SSEStreamOptions } from '../stream/options';
import type { SSEStream } from '../stream/stream';
import { acceptSSEStream, createSSEStream } from './node';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Response {
      /** Set by sseMiddleware(): starts an SSE stream on this request (see createSSEStream). */
      sse(options?: SSEStreamOptions): SSEStream;
    }
  }
}

type Next = (err?: unknown) => void;

/** The `(req, res, next)` function Express calls. */
export type Handler<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> = (
  req: Req,
  res: Res,
  next: Next,
) => void;

function checkOptions(where: string, options: unknown): SSEStreamOptions | undefined {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${where}: options must be an object of stream options (see createSSEStream), got ${options === null ? 'null' : typeof options}`);
  }
  return options as SSEStreamOptions | undefined;
}

/**
 * Middleware that adds `res.sse(options?)` to every response after it:
 * `app.use(sseMiddleware())`, then `const stream = res.sse()` in a route.
 * `defaults` are merged under the options of each call.
 */
export function sseMiddleware(defaults?: SSEStreamOptions): Handler {
  const base = checkOptions('sseMiddleware()', defaults);
  return (req, res, next) => {
    (res as ServerResponse & { sse: (o?: SSEStreamOptions) => SSEStream }).sse = (options) =>
      createSSEStream(req, res, { ...base, ...checkOptions('res.sse()', options) });
    next();
  };
}

/**
 * A route handler that opens the stream, then calls `handler(stream, req,
 * res)`: `app.get('/events', sse((stream, req) => { ... }))`. The stream
 * stays open until the client leaves or the handler calls stream.close().
 * A handler that throws (or whose promise rejects) closes the stream, and
 * the error goes to `next(err)`, i.e. the app's error handlers. With an
 * `authorize` option (sync or async) it is awaited first
 * (acceptSSEStream). A request refused by authorize or allowOrigins gets
 * its 401/403 and `handler` is not called.
 */
export function sse<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  handler: (stream: SSEStream, req: Req, res: Res) => void | Promise<void>,
  options?: SSEStreamOptions,
): Handler<Req, Res> {
  if (typeof handler !== 'function') throw new TypeError('sse(handler, options?): `handler` must be a function (stream, req, res) => void');
  const opts = checkOptions('sse(handler, options)', options);
  const run = (stream: SSEStream, req: Req, res: Res, next: Next) => {
    // Refused by authorize or the Origin rule: answered (401/403) already.
    const code = (stream.closeReason as { code?: string } | undefined)?.code;
    if (code === 'SSE_UNAUTHORIZED' || code === 'SSE_FORBIDDEN') return;
    const fail = (err: unknown) => {
      stream.close();
      next(err);
    };
    try {
      const r = handler(stream, req, res);
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  };
  return (req, res, next) => {
    if (opts?.authorize !== undefined) {
      acceptSSEStream(req, res, opts).then((stream) => run(stream, req, res, next), next);
      return;
    }
    let stream: SSEStream;
    try {
      stream = createSSEStream(req, res, opts);
    } catch (err) {
      return next(err); // bad options or headers already sent: nothing was written
    }
    run(stream, req, res, next);
  };
}

export type { SSEStream, SSEStreamOptions };
