// ParseError and the config check, shared by the native parser
// (lib/parser.ts) and the TypeScript one; they live here so the browser
// build never loads the addon.
import type { ParserConfig } from '../parser';

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
    if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`\`${name}\` must be a function`);
  }
  if (maxBufferSize !== undefined && !(Number.isSafeInteger(maxBufferSize) && maxBufferSize > 0)) {
    throw new TypeError(`\`maxBufferSize\` must be a positive integer, got ${String(maxBufferSize)}`);
  }
}
