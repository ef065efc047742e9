// ParseError for the TypeScript parser (browser build). The same shape as
// the one lib/parser.ts gives the native parser, but defined here so that
// this file tree never loads the addon.
import type { ParseErrorType } from '../parser';

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
