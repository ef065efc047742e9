// What an adopted request keeps of node:http. At adoption the adapter
// destroys Node's socket object (the core holds a duplicate of the fd), which
// makes the socket, `req` and `res` emit 'close' at once, although the
// client is still there and the response has only begun. Code written
// against node:http reads those events and the response's state: the
// `req.on('close', cleanup)` of every tutorial, access logs (morgan through
// on-finished, pino-http), Next.js's "API resolved without sending a
// response" check. handOver() keeps them true to the stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { SSEStream } from '../stream/stream';
import { setResponseHeaders } from './adopt';

type Listener = (...args: unknown[]) => unknown;
type OnceWrapper = Listener & { listener?: Listener };

/** True when the stream ended because the client left (or its socket failed), not by the server. */
function clientLeft(stream: SSEStream): boolean {
  const code = (stream.closeReason as { code?: string } | undefined)?.code;
  return code === 'SSE_CLIENT_GONE' || code === 'SSE_CONNECTION_ERROR';
}

/** True when the server ended the response and the core wrote all of it (close(), closeAll()). */
function finished(stream: SSEStream): boolean {
  return stream.closed && stream.closeReason === undefined;
}

/**
 * 'close' listeners of `req`, `res` and the socket, and `req`'s 'aborted'
 * ones, held until the stream really closes. Listeners added to req/res
 * while the stream is open are held too; removeListener()/off() remove held
 * ones, so a library that cancels its listener (on-finished does on
 * 'finish') is not called later.
 */
class HeldListeners {
  // In the order they fire: the socket's (on-finished), req 'aborted',
  // req 'close', res 'close', as Node emits them when a client leaves.
  private readonly lists: { emitter: EventEmitter; event: string; listeners: Listener[]; args: unknown[] }[] = [];

  constructor(private readonly stream: SSEStream) {}

  private add(emitter: EventEmitter, event: string, args: unknown[]): Listener[] {
    const list = { emitter, event, listeners: [] as Listener[], args };
    this.lists.push(list);
    return list.listeners;
  }

  private find(emitter: EventEmitter, event: string | symbol): Listener[] | undefined {
    return this.lists.find((l) => l.emitter === emitter && l.event === event)?.listeners;
  }

  /**
   * Moves `emitter`'s listeners of `events` (from index `from` on) here;
   * with `patchAdd`, listeners added while the stream is open come here too.
   * `args` are what they are called with (a socket's 'close' gets hadError).
   */
  hold(emitter: EventEmitter, events: string[], opts: { patchAdd: boolean; from?: (all: Listener[]) => number; args?: unknown[] }): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    for (const event of events) {
      const all = emitter.rawListeners(event) as Listener[];
      const moved = all.slice(opts.from ? opts.from(all) : 0);
      this.add(emitter, event, opts.args ?? []).push(...moved);
      for (const l of moved) emitter.removeListener(event, l);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own methods
    const own = emitter as unknown as Record<string, (this: EventEmitter, ...args: any[]) => unknown>;
    if (opts.patchAdd) {
      const add = (original: (typeof own)[string]) =>
        function (this: EventEmitter, event: string | symbol, listener: Listener) {
          const list = self.stream.closed ? undefined : self.find(emitter, event);
          if (list === undefined) return original.call(this, event, listener);
          list.push(listener);
          return this;
        };
      for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) own[method] = add(own[method]);
    }
    const remove = (original: (typeof own)[string]) =>
      function (this: EventEmitter, event: string | symbol, listener: Listener) {
        const list = self.find(emitter, event) ?? [];
        for (let i = list.length - 1; i >= 0; i--) {
          if (list[i] === listener || (list[i] as OnceWrapper).listener === listener) {
            list.splice(i, 1);
            return this;
          }
        }
        return original.call(this, event, listener);
      };
    for (const method of ['removeListener', 'off']) own[method] = remove(own[method]);
    const removeAll = own.removeAllListeners;
    own.removeAllListeners = function (this: EventEmitter, ...args: unknown[]) {
      for (const l of self.lists) if (l.emitter === emitter && (args.length === 0 || l.event === args[0])) l.listeners.length = 0;
      return removeAll.apply(this, args);
    };
  }

  /** Calls what is held, once; a listener that throws does not stop the others (the first error is rethrown). */
  fire(): void {
    let failed = false;
    let first: unknown;
    const left = clientLeft(this.stream);
    for (const { emitter, event, listeners, args } of this.lists) {
      const now = listeners.splice(0);
      if (event === 'aborted' && !left) continue; // Node emits 'aborted' only when the client left.
      for (const listener of now) {
        try {
          listener.apply(emitter, args);
        } catch (err) {
          if (!failed) first = err;
          failed = true;
        }
      }
    }
    if (failed) throw first;
  }
}

/**
 * Hands the request over to the core without changing what node:http code
 * sees. Call after the core adopted the socket: it destroys Node's socket
 * object (never end(), which would send a FIN on the shared socket), then
 * records on `res` the head the core sent (`names`/`values`, `status`) so
 * `headersSent`, `statusCode`, `getHeaders()` and on-headers hooks (morgan's
 * response time) tell the truth. 'close' listeners of the socket (those
 * added for this request), `req` and `res` run when the stream closes; `res`
 * emits 'finish' first when the server ended it; `writableEnded` turns true
 * at close(), and `req` reads as aborted only if the client left.
 */
export function handOver(req: IncomingMessage, res: ServerResponse, stream: SSEStream, status: number, names: string[], values: string[]): void {
  const socket = req.socket;
  const held = new HeldListeners(stream);
  // The socket's own 'close' listeners (Node's bookkeeping) run now; those
  // after ServerResponse's are this request's (on-finished's, for morgan).
  held.hold(socket, ['close'], {
    patchAdd: false,
    args: [false],
    from: (all) => {
      const i = all.findIndex((l) => l.name === 'onServerResponseClose');
      return i < 0 ? all.length : i + 1;
    },
  });
  held.hold(req, ['aborted', 'close'], { patchAdd: true });
  held.hold(res, ['close'], { patchAdd: true });

  const ended = () => (stream.closed ? finished(stream) : !stream.accepting);
  define(res, 'writableEnded', ended);
  define(res, 'finished', ended);
  define(res, 'writableFinished', () => finished(stream));
  const aborted = () => stream.closed && clientLeft(stream);
  define(req, 'aborted', aborted);
  define(req, 'readableAborted', aborted);

  stream.once('close', () => {
    try {
      if (finished(stream)) res.emit('finish');
    } finally {
      held.fire();
    }
  });

  socket.destroy();

  // As writeHead would have: the headers the core sent, then the head
  // marked sent (Node writes nothing: its socket is destroyed).
  try {
    setResponseHeaders(res, names, values);
    res.writeHead(status);
  } catch {
    // A wrapped writeHead that refuses: the state still tells the truth.
    res.statusCode = status;
    define(res, 'headersSent', () => true);
  }
}

function define(target: object, name: string, get: () => boolean): void {
  // A setter that ignores: Node's own code assigns some of these (req.aborted).
  Object.defineProperty(target, name, { configurable: true, enumerable: false, get, set: () => {} });
}
