// What a client needs from HTTP, as one function: send a request, get the
// status, headers and a body of byte chunks. Two implementations: node:http
// (node-transport.ts, Node's default) and fetch (here, for browsers and for
// callers who pass their own `fetch`). This file imports nothing from node:.
import { SSENetworkError } from './errors';

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
  /** Stops reading and releases the connection; idempotent. */
  cancel(): void;
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
    const stream = res.body;
    let cancelled = false;
    const cancel = () => {
      if (cancelled) return;
      cancelled = true;
      stream?.cancel().catch(() => {});
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      if (stream === null) return;
      const reader = stream.getReader();
      try {
        for (;;) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (err) {
            if (req.signal.aborted) throw abortError();
            throw new SSENetworkError(`Connection to ${req.url} lost: ${(err as Error)?.message ?? String(err)}`, err);
          }
          if (r.done) return;
          yield r.value;
        }
      } finally {
        reader.releaseLock();
      }
    }
    return { status: res.status, statusText: res.statusText, url: res.url || req.url, headers: res.headers, body: body(), cancel };
  };
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
