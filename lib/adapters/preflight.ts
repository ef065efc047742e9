// The CORS preflight (OPTIONS) of a cross-origin stream request: what a
// browser sends before a fetch-based client (fetchEventSource, events())
// adds a header such as Authorization. A plain EventSource sends none.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { argTypeError, argValueError } from '../common/errors';
import { compileOrigins, type AllowOrigins } from '../stream/access';

/** Options of corsPreflight() / corsPreflightResponse(). */
export interface PreflightOptions {
  /** The same rule as the stream's `allowOrigins`. */
  allowOrigins: AllowOrigins;
  /** Answer `Access-Control-Allow-Credentials: true` (as the stream's `credentials`). */
  credentials?: boolean;
  /** Request headers the client may send; left out, those the browser asks for. @defaultValue the request's Access-Control-Request-Headers */
  allowHeaders?: readonly string[];
  /** How long the browser may cache the answer, in seconds. @defaultValue 600 */
  maxAgeSeconds?: number;
}

// Status and headers of the answer to a preflight.
function answer(method: string | undefined, origin: string | undefined, requested: string | undefined, o: PreflightOptions): [number, Record<string, string>] | undefined {
  if (typeof o !== 'object' || o === null) throw argTypeError('corsPreflight: options must be an object like { allowOrigins }');
  const allowed = compileOrigins(o.allowOrigins, o.credentials === true);
  if (o.allowHeaders !== undefined && (!Array.isArray(o.allowHeaders) || o.allowHeaders.some((h) => typeof h !== 'string'))) {
    throw argTypeError('corsPreflight: `allowHeaders` must be an array of header names');
  }
  const maxAge = o.maxAgeSeconds ?? 600;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) throw argValueError('corsPreflight: `maxAgeSeconds` must be a non-negative integer');
  if (method !== 'OPTIONS') return undefined;
  if (origin === undefined || origin === '' || allowed(origin) !== true) return [403, { Vary: 'Origin' }];
  const h: Record<string, string> = {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST',
    'Access-Control-Max-Age': String(maxAge),
    Vary: 'Origin, Access-Control-Request-Headers',
  };
  const headers = o.allowHeaders !== undefined ? o.allowHeaders.join(', ') : requested;
  if (headers !== undefined && headers !== '' && !/[\r\n\0]/.test(headers)) h['Access-Control-Allow-Headers'] = headers;
  if (o.credentials === true) h['Access-Control-Allow-Credentials'] = 'true';
  return [204, h];
}

/**
 * Answers a CORS preflight on node:http / Express: for an OPTIONS request,
 * 204 with the Access-Control-Allow-* headers when its Origin is allowed,
 * 403 when not, and returns true; for any other method it does nothing and
 * returns false. `if (corsPreflight(req, res, opts)) return;`
 */
export function corsPreflight(req: IncomingMessage, res: ServerResponse, options: PreflightOptions): boolean {
  const origin = req.headers.origin;
  const requested = req.headers['access-control-request-headers'];
  const a = answer(req.method, typeof origin === 'string' ? origin : undefined, typeof requested === 'string' ? requested : undefined, options);
  if (a === undefined) return false;
  res.writeHead(a[0], { ...a[1], 'Content-Length': '0' });
  res.end();
  return true;
}

/** The same for fetch-style handlers: the Response to an OPTIONS request, or undefined for any other method. */
export function corsPreflightResponse(request: Request, options: PreflightOptions): Response | undefined {
  const a = answer(request.method, request.headers.get('origin') ?? undefined, request.headers.get('access-control-request-headers') ?? undefined, options);
  return a === undefined ? undefined : new Response(null, { status: a[0], headers: a[1] });
}
