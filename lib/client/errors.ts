// The errors clients hand to callers: one class per cause, each with a
// stable `code`, all subclasses of SSEClientError.

/** Base class of every error the clients report; `code` names the cause. */
export class SSEClientError extends Error {
  readonly code:
    | 'SSE_HTTP'
    | 'SSE_CONTENT_TYPE'
    | 'SSE_NETWORK'
    | 'SSE_RETRIES_EXHAUSTED'
    | 'SSE_BUFFER_OVERFLOW'
    | 'SSE_INVALID_RESPONSE';
  constructor(code: SSEClientError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SSEClientError';
    this.code = code;
  }
}

/** The server answered with a status other than 200 (EventSource) or 2xx (fetchEventSource). */
export class SSEHttpError extends SSEClientError {
  readonly status: number;
  readonly statusText: string;
  /** The URL that answered (after redirects). */
  readonly url: string;
  /** The first bytes of the response body, decoded as UTF-8 (at most 1 KiB; empty for EventSource). */
  readonly body: string;
  /** Retry-After in milliseconds when the server sent one (429, 503). */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, statusText: string, url: string, body = '', retryAfterMs?: number) {
    super(
      'SSE_HTTP',
      `Unexpected HTTP status ${status}${statusText ? ` ${statusText}` : ''} from ${url}: an event stream needs a 2xx answer; ` +
        (status >= 500 || status === 408 || status === 429
          ? 'retried with backoff by default; raise maxRetries to keep trying longer'
          : 'check the URL, the method and the credentials (return a delay from onerror to retry, e.g. after refreshing a token)'),
    );
    this.name = 'SSEHttpError';
    this.status = status;
    this.statusText = statusText;
    this.url = url;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The response was not `text/event-stream`. */
export class SSEContentTypeError extends SSEClientError {
  /** The Content-Type header received, or '' when there was none. */
  readonly contentType: string;
  readonly url: string;
  constructor(contentType: string, url: string) {
    super(
      'SSE_CONTENT_TYPE',
      `Expected Content-Type text/event-stream from ${url}, got ${contentType ? JSON.stringify(contentType) : 'none'}: ` +
        'check the URL points at the event stream route (createSSEStream and sseResponse set this header)',
    );
    this.name = 'SSEContentTypeError';
    this.contentType = contentType;
    this.url = url;
  }
}

/** The connection could not be made, or broke before the response ended; `cause` holds the system error. */
export class SSENetworkError extends SSEClientError {
  constructor(message: string, cause?: unknown) {
    super('SSE_NETWORK', message, { cause });
    this.name = 'SSENetworkError';
  }
}

/** fetchEventSource gave up after `maxRetries` attempts; `cause` is the last error. */
export class SSERetriesExhaustedError extends SSEClientError {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(
      'SSE_RETRIES_EXHAUSTED',
      `Gave up after ${attempts} attempts (raise maxRetries, or return a delay from onerror): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'SSERetriesExhaustedError';
    this.attempts = attempts;
  }
}

/**
 * The server sent a line or an event larger than the client's
 * `maxBufferSize` (a runaway stream, or events bigger than expected). The
 * connection is closed and not retried by default: the same stream would
 * overflow again.
 */
export class SSEBufferOverflowError extends SSEClientError {
  /** The limit that was passed, in bytes. */
  readonly maxBufferSize: number;
  readonly url: string;
  constructor(maxBufferSize: number, url: string) {
    super(
      'SSE_BUFFER_OVERFLOW',
      `A line or event from ${url} grew past maxBufferSize (${maxBufferSize} bytes) before it ended; ` +
        'if the server really sends events that large, raise the `maxBufferSize` option (Infinity turns the limit off)',
    );
    this.name = 'SSEBufferOverflowError';
    this.maxBufferSize = maxBufferSize;
    this.url = url;
  }
}

/**
 * A custom `fetch` resolved with something the client cannot read: not a
 * Response, or a Response whose body is missing or not a stream. Not retried
 * by default: the same `fetch` would answer the same way.
 */
export class SSEInvalidResponseError extends SSEClientError {
  readonly url: string;
  constructor(url: string, problem: string) {
    super(
      'SSE_INVALID_RESPONSE',
      `The response from ${url} cannot be read: ${problem}; the \`fetch\` option must resolve with a Response whose body is a ReadableStream of bytes`,
    );
    this.name = 'SSEInvalidResponseError';
    this.url = url;
  }
}

/** Whether `contentType` is text/event-stream (parameters and case ignored), as browsers check it. */
export function isEventStream(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'text/event-stream';
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
