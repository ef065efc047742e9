// One pull interface over the three kinds of source pipe() and forward()
// read: an AsyncIterable (or a plain Iterable), a WHATWG ReadableStream and
// a Node Readable. Each kind has its own way to stop the producer, and the
// difference matters for "stop generating when the client leaves":
//  - AsyncIterator: return(). An async generator suspended at `yield` runs
//    its `finally` at once; one suspended in an `await` of its own body runs
//    it when it next reaches a `yield` (JavaScript cannot interrupt an await).
//  - ReadableStream: reader.cancel(), which settles a pending read at once
//    and calls the underlying source's cancel().
//  - Node Readable: destroy(), which ends a pending read at once. Its own
//    async iterator is an async generator, so return() would wait as above.
// No Node import: a Readable is recognised by shape.

/** What pipe() and forward() can read from. */
export type StreamSource<T> = AsyncIterable<T> | Iterable<T> | ReadableStream<T> | NodeReadableLike;

/** The part of a Node `stream.Readable` used here. */
export interface NodeReadableLike {
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
  destroy(error?: Error): unknown;
  readonly readableEnded?: boolean;
  pipe: unknown;
}

/** A source opened for reading: next() like an iterator; cancel() stops the producer, once. */
export interface OpenSource<T> {
  next(): Promise<IteratorResult<T>>;
  /** Stops the producer; never throws, never rejects; a second call does nothing. */
  cancel(reason?: unknown): void;
  /** Releases the source after it ended by itself (a reader's lock). */
  release(): void;
}

function isReadableStream(x: unknown): x is ReadableStream<unknown> {
  return typeof (x as ReadableStream | null)?.getReader === 'function' && typeof (x as ReadableStream).cancel === 'function';
}

function isNodeReadable(x: unknown): x is NodeReadableLike {
  const r = x as NodeReadableLike | null;
  return typeof r?.destroy === 'function' && typeof r.pipe === 'function' && typeof r[Symbol.asyncIterator] === 'function';
}

/** Describes a value for an error message. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'string') return 'a string';
  if (typeof x !== 'object' && typeof x !== 'function') return typeof x;
  const name = (x as object).constructor?.name;
  return name ? `a ${name}` : 'an object';
}

/**
 * Opens `source` for reading. Throws a TypeError naming what was expected
 * for anything else (a string is refused: it is one message, not a stream).
 */
export function openSource<T>(source: StreamSource<T>, fn: string): OpenSource<T> {
  if (isReadableStream(source)) return openReadableStream(source as ReadableStream<T>);
  if (isNodeReadable(source)) return openNodeReadable<T>(source);
  if (typeof source !== 'string' && source !== null && typeof source === 'object') {
    const asyncIt = (source as AsyncIterable<T>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return openIterator(asyncIt.call(source));
    const syncIt = (source as Iterable<T>)[Symbol.iterator];
    if (typeof syncIt === 'function') return openIterator(syncIt.call(source) as Iterator<T>);
  }
  throw new TypeError(
    `${fn}: \`source\` must be an AsyncIterable, an Iterable, a ReadableStream or a Node Readable, got ${describe(source)}` +
      (typeof source === 'string' ? ' (to send one string, use sse.send({ data }))' : ''),
  );
}

function openIterator<T>(it: AsyncIterator<T> | Iterator<T>): OpenSource<T> {
  let cancelled = false;
  return {
    next: async () => it.next(),
    cancel(reason) {
      if (cancelled) return;
      cancelled = true;
      try {
        const r = it.return?.(reason as T);
        if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {});
      } catch {
        // A return() that throws has stopped all the same.
      }
    },
    release() {},
  };
}

function openReadableStream<T>(stream: ReadableStream<T>): OpenSource<T> {
  const reader = stream.getReader();
  let cancelled = false;
  return {
    next: () => reader.read() as Promise<IteratorResult<T>>,
    cancel(reason) {
      if (cancelled) return;
      cancelled = true;
      reader.cancel(reason).then(undefined, () => {});
    },
    release() {
      try {
        reader.releaseLock();
      } catch {
        // Already released.
      }
    },
  };
}

function openNodeReadable<T>(readable: NodeReadableLike): OpenSource<T> {
  const it = readable[Symbol.asyncIterator]() as AsyncIterator<T>;
  let cancelled = false;
  return {
    next: () => it.next(),
    cancel() {
      if (cancelled) return;
      cancelled = true;
      // destroy() without an error: a pending next() then ends (or rejects
      // with a premature-close error, which the caller ignores once cancelled).
      readable.destroy();
    },
    release() {},
  };
}
