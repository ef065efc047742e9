// The Node transport: node:http / node:https directly (no fetch, no
// web streams), following redirects itself. The only file of lib/client
// that imports from node:; the browser entry never reaches it.
import * as http from 'node:http';
import * as https from 'node:https';
import { SSENetworkError } from './errors';
import { abortError, type Transport, type TransportRequest, type TransportResponse } from './transport';

const kMaxRedirects = 20; // as fetch
const kRedirects = new Set([301, 302, 303, 307, 308]);
// Dropped when a redirect leaves the origin, as fetch does.
const kCredentialHeaders = ['authorization', 'cookie', 'proxy-authorization'];

/** Sends `request` with node:http(s); see Transport. */
export const nodeTransport: Transport = (request: TransportRequest) =>
  new Promise<TransportResponse>((resolve, reject) => {
    const { signal } = request;
    if (signal.aborted) return reject(abortError());
    let url: URL;
    try {
      url = new URL(request.url);
    } catch (err) {
      return reject(new SSENetworkError(`Invalid URL ${request.url}`, err));
    }
    let method = request.method.toUpperCase();
    let body = request.body ?? undefined;
    const headers = { ...request.headers };
    let redirects = 0;
    let current: http.ClientRequest | undefined;
    let settled = false;

    // No error passed: what the request or body reports is mapped to an
    // AbortError wherever the signal is seen aborted.
    const onAbort = () => current?.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };

    const send = () => {
      const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (mod === undefined) return fail(new SSENetworkError(`Unsupported protocol ${url.protocol} in ${url.href}`));
      if (body !== undefined && headers['content-length'] === undefined) {
        headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      }
      const req = mod.request(url, { method, headers });
      current = req;
      req.on('error', (err) => fail(signal.aborted ? abortError() : new SSENetworkError(`Request to ${url.href} failed: ${err.message}`, err)));
      req.on('response', (res) => {
        const location = res.headers.location;
        if (kRedirects.has(res.statusCode ?? 0) && location !== undefined) {
          res.resume();
          if (++redirects > kMaxRedirects) return fail(new SSENetworkError(`Too many redirects from ${request.url}`));
          let next: URL;
          try {
            next = new URL(location, url);
          } catch (err) {
            return fail(new SSENetworkError(`Bad redirect Location ${JSON.stringify(location)} from ${url.href}`, err));
          }
          const status = res.statusCode!;
          if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
            method = 'GET';
            body = undefined;
            delete headers['content-length'];
            delete headers['content-type'];
          }
          if (next.origin !== url.origin) for (const h of kCredentialHeaders) delete headers[h];
          url = next;
          return send();
        }
        settled = true;
        resolve(wrap(res, url.href, signal, () => signal.removeEventListener('abort', onAbort), req));
      });
      req.end(body);
    };
    send();
  });

function wrap(
  res: http.IncomingMessage,
  url: string,
  signal: AbortSignal,
  release: () => void,
  req: http.ClientRequest,
): TransportResponse {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.append(name, value);
  }
  // Errors reach the reader through the iterator; this keeps one that comes
  // while nobody iterates (after cancel, or before the first read) from
  // becoming an uncaught 'error' event.
  res.on('error', () => {});
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    release();
    req.destroy();
    res.destroy();
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      // A body delimited by the end of the connection (what an adopted
      // stream sends) ends normally at EOF; a chunked body cut short throws.
      // Under jsdom the global Uint8Array is another realm's, and parsers
      // check `instanceof Uint8Array`: hand them a view of this realm (no copy).
      for await (const chunk of res) {
        const view = chunk as ArrayBufferView;
        yield view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      }
    } catch (err) {
      if (signal.aborted) throw abortError();
      if (cancelled) return;
      throw new SSENetworkError(`Connection to ${url} lost: ${(err as Error).message}`, err);
    } finally {
      release();
    }
    if (signal.aborted) throw abortError();
  }
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', url, headers, body: body(), cancel };
}
