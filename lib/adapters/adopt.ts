// May the core adopt this request's socket, and what head does it write?
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { native } from '../native/binding';
import type { ResolvedOptions } from '../stream/options';
import { SSE_HEADERS } from '../common/headers';
import { withCode } from '../common/errors';

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;


// Headers that describe a body framing the adopted stream does not use, or
// that HTTP/2 forbids.
const FRAMING = new Set(['content-length', 'transfer-encoding']);
const HTTP2_FORBIDDEN = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** The socket's fd when the core may adopt it, else why not. */
export function adoptableFd(req: Req, res: Res): number | string {
  if (process.platform === 'win32') return 'windows';
  if (req.httpVersionMajor !== 1 || 'stream' in req) return 'not HTTP/1.x';
  const r = req as IncomingMessage;
  const socket = r.socket as (typeof r.socket & { encrypted?: boolean; _handle?: { fd?: number } }) | null;
  if (!socket) return 'no socket';
  if (socket.encrypted) return 'TLS';
  if ((res as ServerResponse).socket !== socket) return 'response is not on the request socket';
  if (res.headersSent) return 'headers already sent';
  if (socket.writableLength !== 0) return 'data pending in the socket write buffer';
  if (req.method === 'HEAD') return 'HEAD request';
  if (r.headers.upgrade !== undefined) return 'Upgrade request';
  const fd = socket._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return 'no file descriptor';
  if (pipelinedBehind(r)) return 'a request is pipelined behind it';
  return fd;
}

// Node's HTTP parser of a socket (an internal of node:http, looked at with care).
interface NodeParser {
  incoming?: unknown;
  getCurrentBuffer?: () => Buffer;
}

/**
 * True when Node already read bytes the client sent after this request
 * (HTTP/1.1 pipelining). Such a request is not adopted: Node then answers
 * the ones behind it, in order, once the stream ends. Adopted, their bytes
 * would be in Node's hands and the core's socket, with nobody to answer.
 * Node parsed another request (a POST stream's body ended), or the read
 * being parsed holds more than this bodyless request's head.
 */
function pipelinedBehind(req: IncomingMessage): boolean {
  const parser = (req.socket as unknown as { parser?: NodeParser | null }).parser;
  if (parser == null) return false;
  if (parser.incoming != null && parser.incoming !== req) return true;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || Number(h['content-length'] ?? 0) > 0) return false;
  let buf: Buffer | undefined;
  try {
    buf = parser.getCurrentBuffer?.();
  } catch {
    return false;
  }
  if (buf === undefined || buf.length === 0) return false;
  return buf.length > headEnd(buf);
}

// Where this request's head ends in the read being parsed: after the first
// blank line, or at the start when the read only completes a head begun in
// an earlier one. A head before ours in the same read counts as "more"
// (harmless: that request simply is not adopted).
function headEnd(buf: Buffer): number {
  for (const lead of ['\r\n\r\n', '\n\r\n', '\r\n', '\n']) {
    if (buf.length >= lead.length && buf.toString('latin1', 0, lead.length) === lead) return lead.length;
  }
  const crlf = buf.indexOf('\r\n\r\n');
  if (crlf >= 0) return crlf + 4;
  const lf = buf.indexOf('\n\n');
  return lf >= 0 ? lf + 2 : buf.length;
}

/** True when the request asked for `Connection: close` (HTTP/1.x). */
export function wantsClose(req: Req): boolean {
  return req.httpVersionMajor === 1 && /(^|,)\s*close\s*(,|$)/i.test(String(req.headers.connection ?? ''));
}

/** True while the request still has body bytes Node has not read. */
export function bodyPending(req: Req): boolean {
  if ((req as IncomingMessage).complete) return false;
  const h = req.headers;
  const len = h['content-length'];
  if (h['transfer-encoding'] !== undefined) return true;
  return len !== undefined && Number(len) > 0;
}

/**
 * The headers to send, in order: what the app already set on `res` (CORS
 * middleware, res.setHeader), then the SSE set, then options.headers; a
 * later one replaces an earlier one of the same name. Framing headers go.
 */
export function responseHeaders(res: Res, opts: ResolvedOptions, http2: boolean, wantsClose = false): [string[], string[]] {
  const merged = new Map<string, [string, string[]]>();
  const put = (name: string, value: string | number | readonly string[] | undefined) => {
    if (value === undefined) return;
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    merged.set(name.toLowerCase(), [name, values]);
  };
  const withRaw = res as Res & { getRawHeaderNames?: () => string[] };
  const raw = withRaw.getRawHeaderNames?.() ?? res.getHeaderNames();
  for (const name of raw) put(name, res.getHeader(name) as string | number | string[] | undefined);
  for (const [k, v] of Object.entries(SSE_HEADERS)) put(k, v);
  for (const [k, v] of Object.entries(opts.headers)) put(k, v);
  // A client that asked for `Connection: close` is told the connection
  // closes with the stream (both sinks say the same).
  if (wantsClose) put('Connection', 'close');
  const names: string[] = [];
  const values: string[] = [];
  for (const [lower, [name, vals]] of merged) {
    if (FRAMING.has(lower) || (http2 && HTTP2_FORBIDDEN.has(lower))) continue;
    for (const v of vals) {
      // Node's writeHead refuses these; the adopted head refuses them too,
      // so both sinks accept and refuse the same values, before anything opens.
      if (/[^\t\x20-\x7e\x80-\xff]/.test(v)) {
        throw withCode(
          new TypeError(`Invalid character in header content [${JSON.stringify(name)}]: header values must be Latin-1 text without CR, LF or NUL (encode other text, e.g. with encodeURIComponent)`),
          'ERR_INVALID_CHAR',
        );
      }
      names.push(name);
      values.push(v);
    }
  }
  return [names, values];
}

/** The head the core writes on an adopted socket: its bytes and the headers in it. */
export interface Head {
  bytes: Buffer;
  names: string[];
  values: string[];
}

/** The response head, built by the core; a TypeError (with a code) naming a bad header. */
export function buildHead(res: Res, opts: ResolvedOptions, wantsClose: boolean): Head {
  const [names, values] = responseHeaders(res, opts, false, wantsClose);
  return { bytes: native.buildHead(opts.status, STATUS_CODES[opts.status] ?? '', names, values), names, values };
}

/**
 * Puts `names`/`values` on `res` in place of what was set there (one value:
 * a string, several: an array), as getHeaders() should report them.
 */
export function setResponseHeaders(res: Res, names: string[], values: string[], skip?: (lower: string) => boolean): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const byName = new Map<string, [string, string[]]>();
  names.forEach((n, i) => {
    const lower = n.toLowerCase();
    if (skip?.(lower)) return;
    const entry = byName.get(lower);
    if (entry) entry[1].push(values[i]);
    else byName.set(lower, [n, [values[i]]]);
  });
  for (const [name, vals] of byName.values()) res.setHeader(name, vals.length === 1 ? vals[0] : vals);
}
