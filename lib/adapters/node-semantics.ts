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
 *
 * An idle adopted stream must not keep Node's objects alive (a socket, a
 * request and a response are about 12 KB): an emitter is referenced from
 * here only while it has listeners to call at the close (held ones, or
 * `res`'s own 'finish' ones). One nobody else references can have no
 * listener added any more, so nothing observable is lost when it goes.
 */
class HeldListeners {
  // In the order they fire: the socket's (on-finished), req 'aborted',
  // req 'close', res 'close', as Node emits them when a client leaves.
  // Only lists with listeners in them; none for most streams.
  private lists: HeldList[] | undefined;
  // `res` while it has 'finish' listeners of its own (emitted at a server close).
  private finishRes: EventEmitter | undefined;

  constructor(private readonly stream: SSEStream) {}

  private list(emitter: EventEmitter, event: string | symbol, rank: number, args: unknown[], create: boolean): HeldList | undefined {
    let lists = this.lists;
    const found = lists?.find((l) => l.event === event && l.emitter === emitter);
    if (found !== undefined || !create) return found;
    lists ??= this.lists = [];
    const list: HeldList = { emitter, event: event as string, rank, args, listeners: [] };
    let at = lists.length;
    while (at > 0 && lists[at - 1].rank > rank) at--;
    lists.splice(at, 0, list);
    return list;
  }

  private drop(list: HeldList): void {
    const i = this.lists?.indexOf(list) ?? -1;
    if (i >= 0) this.lists!.splice(i, 1);
  }

  /** Emits 'finish' on `res` at the close (when the server ended the stream) if anything of the app listens. */
  watchFinish(res: EventEmitter): void {
    // Node's own listener (resOnFinish: bookkeeping of a socket it no
    // longer has) does not need the response kept.
    const keep = () => {
      this.finishRes = res.rawListeners('finish').some((l) => l.name !== 'bound resOnFinish') ? res : undefined;
    };
    keep();
    const own = res as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener', 'removeListener', 'off', 'removeAllListeners']) {
      const original = own[method];
      own[method] = function (this: EventEmitter, ...args: unknown[]) {
        const r = original.apply(this, args);
        if (args.length === 0 || args[0] === 'finish') keep();
        return r;
      };
    }
  }

  /** The response, if anything of the app listens for its 'finish'. */
  finishTarget(): EventEmitter | undefined {
    return this.finishRes;
  }

  /**
   * Moves `emitter`'s listeners of `events` (from index `from` on) here;
   * with `patchAdd`, listeners added while the stream is open come here too.
   * `args` are what they are called with (a socket's 'close' gets hadError).
   * `rank` orders the lists when they fire.
   */
  hold(emitter: EventEmitter, events: string[], rank: number, opts: { patchAdd: boolean; from?: (all: Listener[]) => number; args?: unknown[] }): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const args = opts.args ?? [];
    for (const [i, event] of events.entries()) {
      const all = emitter.rawListeners(event) as Listener[];
      for (const l of all.slice(opts.from ? opts.from(all) : 0)) {
        self.list(emitter, event, rank + i, args, true)!.listeners.push(l);
        emitter.removeListener(event, l);
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own methods
    const own = emitter as unknown as Record<string, (this: EventEmitter, ...args: any[]) => unknown>;
    if (opts.patchAdd) {
      const add = (original: (typeof own)[string]) =>
        function (this: EventEmitter, event: string | symbol, listener: Listener) {
          const i = events.indexOf(event as string);
          if (i < 0 || self.stream.closed) return original.call(this, event, listener);
          self.list(this, event, rank + i, args, true)!.listeners.push(listener);
          return this;
        };
      for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) own[method] = add(own[method]);
    }
    const remove = (original: (typeof own)[string]) =>
      function (this: EventEmitter, event: string | symbol, listener: Listener) {
        const list = self.list(this, event, 0, args, false);
        if (list !== undefined) {
          const held = list.listeners;
          for (let i = held.length - 1; i >= 0; i--) {
            if (held[i] === listener || (held[i] as OnceWrapper).listener === listener) {
              held.splice(i, 1);
              if (held.length === 0) self.drop(list);
              return this;
            }
          }
        }
        return original.call(this, event, listener);
      };
    for (const method of ['removeListener', 'off']) own[method] = remove(own[method]);
    const removeAll = own.removeAllListeners;
    own.removeAllListeners = function (this: EventEmitter, ...rest: unknown[]) {
      for (const l of [...(self.lists ?? [])]) if (l.emitter === this && (rest.length === 0 || l.event === rest[0])) self.drop(l);
      return removeAll.apply(this, rest);
    };
  }

  /** Calls what is held, once; a listener that throws does not stop the others (the first error is rethrown). */
  fire(): void {
    let failed = false;
    let first: unknown;
    const left = clientLeft(this.stream);
    const lists = this.lists ?? [];
    this.lists = undefined;
    for (const { emitter, event, args, listeners } of lists) {
      if (event === 'aborted' && !left) continue; // Node emits 'aborted' only when the client left.
      for (const listener of listeners) {
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

/** One emitter's held listeners of one event. */
interface HeldList {
  emitter: EventEmitter;
  event: string;
  rank: number;
  args: unknown[];
  listeners: Listener[];
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
  held.hold(socket, ['close'], 0, {
    patchAdd: false,
    args: [false],
    from: (all) => {
      const i = all.findIndex((l) => l.name === 'onServerResponseClose');
      return i < 0 ? all.length : i + 1;
    },
  });
  held.hold(req, ['aborted', 'close'], 1, { patchAdd: true });
  held.hold(res, ['close'], 3, { patchAdd: true });

  const ended = () => (stream.closed ? finished(stream) : !stream.accepting);
  define(res, 'writableEnded', ended);
  define(res, 'finished', ended);
  define(res, 'writableFinished', () => finished(stream));
  const aborted = () => stream.closed && clientLeft(stream);
  define(req, 'aborted', aborted);
  define(req, 'readableAborted', aborted);

  held.watchFinish(res);

  stream.once('close', () => {
    try {
      if (finished(stream)) held.finishTarget()?.emit('finish');
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
