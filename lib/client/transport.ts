// What a client needs from HTTP, as one function: send a request, get the
// status, headers and a body of byte chunks. Two implementations: node:http
// (node-transport.ts, Node's default) and fetch (here, for browsers and for
// callers who pass their own `fetch`). This file imports nothing from node:.
import { SSEInvalidResponseError, SSENetworkError } from './errors';

/** One request. `headers` names are lower-case. Aborting `signal` tears the request and its body down. */
export interface TransportRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | null | undefined;
  signal: AbortSignal;
}

/** A response whose head has arrived; the body is read by iterating `body` once. */
export interface TransportResponse {
  status: number;
  statusText: string;
  /** The URL that answered, after redirects. */
  url: string;
  headers: Headers;
  /**
   * The body as it arrives. Ends when the response ends; throws
   * SSENetworkError when the connection breaks first, and an AbortError once
   * the request's signal aborted.
   */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and releases the connection; idempotent, never throws. */
  cancel(): void;
  /**
   * Set when the body cannot be read at all (a custom fetch gave no body, or
   * not a stream): iterating `body` would throw it. Clients check it once
   * the status and type are known, to fail once with a clear error.
   */
  unreadable?: SSEInvalidResponseError | undefined;
}

/** Sends a request: resolves once the head has arrived, rejects with SSENetworkError (or an AbortError). */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** A minimal `fetch` signature, so callers may pass any implementation (undici, node-fetch, a mock). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The error a transport throws once its request's signal aborted. */
export function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

/** A Transport over `fetch` (the browser's, or one the caller passes). Redirects are followed by fetch. */
export function fetchTransport(fetchImpl: FetchLike | undefined = globalThis.fetch?.bind(globalThis)): Transport {
  if (typeof fetchImpl !== 'function') throw new TypeError('`fetch` must be a function (no global fetch in this runtime)');
  return async (req) => {
    let res: Response;
    try {
      res = await fetchImpl(req.url, {
        method: req.method,
        headers: req.headers,
        body: (req.body ?? undefined) as BodyInit | undefined,
        signal: req.signal,
        redirect: 'follow',
        cache: 'no-store',
      });
    } catch (err) {
      if (req.signal.aborted) throw abortError();
      throw new SSENetworkError(`Request to ${req.url} failed: ${(err as Error)?.message ?? String(err)}`, err);
    }
    if (res === null || typeof res !== 'object' || typeof res.status !== 'number') {
      throw new SSEInvalidResponseError(req.url, `\`fetch\` resolved with ${describe(res)} instead of a Response`);
    }
    const url = typeof res.url === 'string' && res.url !== '' ? res.url : req.url;
    const headers = res.headers instanceof Headers ? res.headers : new Headers((res.headers ?? undefined) as HeadersInit | undefined);
    const { body, cancel, unreadable } = readBody(res.body as unknown, url, req.signal);
    return { status: res.status, statusText: String(res.statusText ?? ''), url, headers, body, cancel, unreadable };
  };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'a string';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v)})` : String(typeof v);
}

type ChunkSource = { next(): Promise<{ done?: boolean; value?: unknown }>; stop(): void };

// The body as a web ReadableStream (fetch) or any async iterable of bytes
// (node-fetch 2 gives a Node stream); anything else is unreadable.
function readBody(
  raw: unknown,
  url: string,
  signal: AbortSignal,
): { body: AsyncIterable<Uint8Array>; cancel: () => void; unreadable: SSEInvalidResponseError | undefined } {
  let open: (() => ChunkSource) | undefined;
  let release = () => {};
  const anyRaw = raw as { getReader?: unknown; cancel?: unknown; [Symbol.asyncIterator]?: unknown } | null | undefined;
  if (anyRaw != null && typeof anyRaw.getReader === 'function') {
    const stream = anyRaw as ReadableStream<unknown>;
    release = () => {
      try {
        stream.cancel().catch(() => {});
      } catch {
        // A locked or odd stream: the reader's own release below still runs.
      }
    };
    open = () => {
      const reader = stream.getReader();
      return { next: () => reader.read(), stop: () => reader.releaseLock() };
    };
  } else if (anyRaw != null && typeof anyRaw[Symbol.asyncIterator] === 'function') {
    const iterable = anyRaw as AsyncIterable<unknown>;
    let it: AsyncIterator<unknown> | undefined;
    release = () => {
      void it?.return?.()?.catch?.(() => {});
      const destroy = (anyRaw as { destroy?: unknown }).destroy;
      if (typeof destroy === 'function') (destroy as () => void).call(anyRaw);
    };
    open = () => {
      it = iterable[Symbol.asyncIterator]();
      const i = it;
      return { next: () => i.next(), stop: () => {} };
    };
  }
  const unreadable =
    open === undefined
      ? new SSEInvalidResponseError(url, raw == null ? 'it has no body' : `its body is ${describe(raw)}, not a stream`)
      : undefined;
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    release();
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    if (open === undefined) throw unreadable;
    const source = open();
    try {
      for (;;) {
        let r: { done?: boolean; value?: unknown };
        try {
          r = await source.next();
        } catch (err) {
          if (signal.aborted) throw abortError();
          throw new SSENetworkError(`Connection to ${url} lost: ${(err as Error)?.message ?? String(err)}`, err);
        }
        if (r.done) return;
        const v = r.value;
        if (v instanceof Uint8Array) yield v;
        else if (ArrayBuffer.isView(v)) {
          // Bytes from another realm (jsdom, a vm context): a view of this one, no copy.
          yield new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        } else throw new SSEInvalidResponseError(url, `its body gave ${describe(v)}, not bytes`);
      }
    } finally {
      source.stop();
    }
  }
  return { body: body(), cancel, unreadable };
}

/** Reads at most `limit` bytes of a body, decoded as UTF-8 (for error messages), then cancels it. */
export async function readSnippet(res: TransportResponse, limit = 1024, waitMs = 1000): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const read = (async () => {
    for await (const chunk of res.body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  })();
  // A server that sends an error head and then stalls must not stall us.
  const stall = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
  });
  try {
    await Promise.race([read, stall]);
  } catch {
    // A body that breaks is still an HTTP error: report what arrived.
  } finally {
    clearTimeout(timer);
    res.cancel();
    read.catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, limit));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
    if (at >= all.length) break;
  }
  return new TextDecoder().decode(all);
}

/** Header init as callers write it, flattened to lower-case names. */
export type HeadersLike = Record<string, string> | [string, string][] | Headers;

export function normalizeHeaders(h: HeadersLike | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined || h === null) return out;
  let entries: Iterable<[string, string]>;
  if (Array.isArray(h)) entries = h;
  else if (typeof Headers !== 'undefined' && h instanceof Headers) {
    const list: [string, string][] = [];
    h.forEach((value, name) => list.push([name, value]));
    entries = list;
  }
  else entries = Object.entries(h as Record<string, string>);
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    out[String(name).toLowerCase()] = String(value);
  }
  return out;
}
