// The parser's public surface shared by the native parser (lib/native/parser.ts)
// and the TypeScript one (lib/client/parser-ts.ts): its types, the one
// ParseError class (so `instanceof` holds whichever parser produced it) and
// the config check. No Node and no addon: the browser build uses it.

export type ParseErrorType = 'invalid-retry' | 'unknown-field' | 'max-buffer-size-exceeded';

/** Something the parser ignored; passed to `onError`, never thrown by feed(). */
export class ParseError extends Error {
  readonly type: ParseErrorType;
  readonly field?: string;
  readonly value?: string;
  readonly line?: string;
  constructor(message: string, opts: { type: ParseErrorType; field?: string; value?: string; line?: string }) {
    super(message);
    this.name = 'ParseError';
    this.type = opts.type;
    if (opts.field !== undefined) this.field = opts.field;
    if (opts.value !== undefined) this.value = opts.value;
    if (opts.line !== undefined) this.line = opts.line;
  }
}

/** Checks createParser's config the same way for both parsers; TypeError naming what is wrong. */
export function checkParserConfig(config: ParserConfig): void {
  if (typeof config === 'function') {
    throw new TypeError('`config` must be an object, got a function instead. Did you mean `createParser({onEvent: fn})`?');
  }
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`\`config\` must be an object with callbacks, got ${config === null ? 'null' : typeof config}`);
  }
  const { onEvent, onId, onRetry, onComment, onError, maxBufferSize } = config;
  for (const [name, fn] of Object.entries({ onEvent, onId, onRetry, onComment, onError })) {
    if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`\`${name}\` must be a function, got ${typeof fn}`);
  }
  if (maxBufferSize !== undefined && !(Number.isSafeInteger(maxBufferSize) && maxBufferSize > 0)) {
    throw new TypeError(`\`maxBufferSize\` must be a positive integer, got ${String(maxBufferSize)}`);
  }
}

/** A parsed event. `event` and `id` are undefined when the block had none. */
export interface EventSourceMessage {
  event?: string | undefined;
  id?: string | undefined;
  data: string;
}

/** Callbacks, called synchronously from feed()/reset() in stream order. */
export interface ParserCallbacks {
  /** A blank line ended a block with data. */
  onEvent?: ((event: EventSourceMessage) => void) | undefined;
  /** A blank line ended a block with a valid `id` field (before its onEvent, also when it had no data). */
  onId?: ((id: string) => void) | undefined;
  /** A `retry` field of ASCII digits: the reconnection time in ms (a value past 2^64-1 is ignored: onError 'invalid-retry'). */
  onRetry?: ((retry: number) => void) | undefined;
  /** A comment line (`:` prefix), without the colon and one leading space. Without it, comments are neither reported nor kept while incomplete. */
  onComment?: ((comment: string) => void) | undefined;
  /** An ignored field or an oversized buffer. */
  onError?: ((error: ParseError) => void) | undefined;
}

export interface ParserConfig extends ParserCallbacks {
  /**
   * Maximum bytes (UTF-8) buffered for an incomplete line plus pending event
   * data, checked after each feed(); past it onError gets
   * 'max-buffer-size-exceeded' and feed() throws until reset(). A line that
   * cannot become a field (`data`, `event`, `id`, `retry`, or a comment with
   * onComment) is dropped when a feed ends inside it, never buffered or
   * counted, and then not reported as 'unknown-field' (eventsource-parser 4.1).
   * @defaultValue undefined (unbounded)
   */
  maxBufferSize?: number | undefined;
}

export interface EventSourceParser {
  /** Feeds a chunk: a string, or bytes (UTF-8; a character may be split across chunks). */
  feed(chunk: string | Uint8Array): void;
  /** Starts a new stream; with `consume`, parses a pending incomplete line first. */
  reset(options?: { consume?: boolean }): void;
}

