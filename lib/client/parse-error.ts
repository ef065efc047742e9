// ParseError, shared by the native parser (lib/parser.ts re-exports it) and
// the TypeScript one; it lives here so the browser build never loads the addon.

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
