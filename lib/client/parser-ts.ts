// The WHATWG event-stream parser in plain TypeScript, for the browser build
// (browsers cannot load the addon). It mirrors native/core/parser.cc rule
// for rule and is held to it by the shared vectors (test/vectors/
// parser.vectors) and a differential test; in Node, clients use the native
// createParser from lib/parser.ts instead.
import { ParseError, checkParserConfig, type EventSourceParser, type ParserConfig, type ParseErrorType } from '../common/parser-api';

const kMaxRetry = 18446744073709551615n; // UINT64_MAX: the core ignores a larger retry
const kTerminated =
  'Cannot feed parser: it was terminated after exceeding the configured max buffer size. Call `reset()` to resume parsing.';

type WellFormed = { isWellFormed?: () => boolean; toWellFormed?: () => string };

/**
 * Creates an incremental Server-Sent Events parser with the callbacks of
 * `createParser` (eventsource-parser 4.x shape), without the native addon.
 * Callbacks run synchronously inside feed()/reset(), in stream order; a
 * callback that throws propagates out of feed() and the rest of that chunk
 * is lost.
 */
export function createParser(config: ParserConfig): EventSourceParser {
  checkParserConfig(config);
  const { onEvent, onId, onRetry, onComment, onError, maxBufferSize } = config;

  // ignoreBOM keeps a BOM in the text: it is stripped below, once per
  // stream, whether the stream came as bytes or as strings.
  let decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let encoder: TextEncoder | undefined;
  let bytesPending = false; // the decoder may hold part of a character
  let terminated = false;
  let bomChecked = false;
  let lastWasCr = false; // a CR ended the previous text: skip one LF
  let skipping = false; // dropping the rest of a line up to its break (see lineMayMatter)
  let line = ''; // incomplete line carried across feeds
  // UTF-8 bytes of `line` and of data[0, dataCounted), counted once as they
  // grow (both only grow by appending until reset): recounting a
  // multi-megabyte line on every feed was quadratic.
  let lineBytes = 0;
  let dataCounted = 0;
  let dataBytes = 0;
  let lineMatters = false; // the buffered line's start was seen to be a field that may matter
  let data = '';
  let hasData = false;
  let eventType = '';
  let hasEvent = false;
  let id = '';
  let hasId = false;

  function clearBlock(): void {
    data = '';
    dataCounted = dataBytes = 0;
    hasData = false;
    eventType = '';
    hasEvent = false;
    id = '';
    hasId = false;
  }

  function error(type: ParseErrorType, field: string, value: string, text: string): void {
    if (onError === undefined) return;
    if (type === 'invalid-retry') {
      onError(new ParseError(`Invalid \`retry\` value: "${value}"`, { type, value, line: text }));
    } else {
      const name = field.length > 20 ? `${field.slice(0, 20)}…` : field;
      onError(new ParseError(`Unknown field "${name}"`, { type, field, value, line: text }));
    }
  }

  function dispatch(): void {
    if (hasId && onId !== undefined) onId(id);
    if (hasData && onEvent !== undefined) {
      onEvent({ id: hasId ? id : undefined, event: hasEvent ? eventType : undefined, data });
    }
    clearBlock();
  }

  // `src.slice(start, end)` is the whole line, for error reports only.
  function processField(field: string, value: string, src: string, start: number, end: number): void {
    switch (field) {
      case 'data':
        if (hasData) data += '\n' + value;
        else {
          data = value;
          dataCounted = dataBytes = 0;
          hasData = true;
        }
        return;
      case 'event':
        // An empty value resets the type to the default ("message").
        hasEvent = value !== '';
        eventType = value;
        return;
      case 'id':
        if (!value.includes('\0')) {
          id = value;
          hasId = true;
        }
        return;
      case 'retry': {
        const ms = /^[0-9]+$/.test(value) ? parseRetry(value) : undefined;
        if (ms !== undefined) {
          if (onRetry !== undefined) onRetry(ms);
        } else {
          error('invalid-retry', field, value, src.slice(start, end));
        }
        return;
      }
      default:
        error('unknown-field', field, value, src.slice(start, end));
    }
  }

  // The line src[start, end), without its terminator; nothing is sliced
  // out of `src` but the parts a callback or the event keeps.
  function processLine(src: string, start: number, end: number): void {
    if (start === end) return dispatch();
    if (src.charCodeAt(start) === 0x3a /* : */) {
      if (onComment !== undefined) {
        const from = src.charCodeAt(start + 1) === 0x20 && start + 1 < end ? start + 2 : start + 1;
        onComment(src.slice(from, end));
      }
      return;
    }
    if (
      src.charCodeAt(start + 4) === 0x3a &&
      start + 4 < end &&
      src.charCodeAt(start) === 0x64 &&
      src.charCodeAt(start + 1) === 0x61 &&
      src.charCodeAt(start + 2) === 0x74 &&
      src.charCodeAt(start + 3) === 0x61
    ) {
      // The common line, "data:": no field name sliced out.
      const from = start + 5 < end && src.charCodeAt(start + 5) === 0x20 ? start + 6 : start + 5;
      // The common line: no field name sliced out.
      const value = src.slice(from, end);
      if (hasData) data += '\n' + value;
      else {
        data = value;
        dataCounted = dataBytes = 0;
        hasData = true;
      }
      return;
    }
    let colon = src.indexOf(':', start);
    if (colon >= end) colon = -1;
    if (colon < 0) return processField(src.slice(start, end), '', src, start, end);
    const from = colon + 1 < end && src.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1;
    processField(src.slice(start, colon), src.slice(from, end), src, start, end);
  }

  // Decoded text of whole characters.
  function processText(text: string): void {
    let pos = 0;
    const end = text.length;
    if (!bomChecked) {
      bomChecked = true;
      if (text.charCodeAt(0) === 0xfeff) {
        pos = 1;
        if (end === 1) return;
      }
    }
    if (lastWasCr) {
      lastWasCr = false;
      if (text.charCodeAt(pos) === 0x0a) ++pos;
    }
    if (skipping) {
      // The dropped line ends at the first CR or LF; its break is not a blank
      // line, so nothing is dispatched for it.
      const lf = text.indexOf('\n', pos);
      const cr = text.indexOf('\r', pos);
      const eol = lf < 0 ? (cr < 0 ? end : cr) : cr < 0 ? lf : Math.min(cr, lf);
      if (eol === end) return;
      skipping = false;
      const wasCr = text.charCodeAt(eol) === 0x0d;
      pos = eol + 1;
      if (wasCr) {
        if (pos === end) {
          lastWasCr = true;
          return;
        }
        if (text.charCodeAt(pos) === 0x0a) ++pos;
      }
    }
    // Next CR and next LF at or after `pos` (end when none); each is searched
    // again only once passed, so the scan stays linear.
    let cr = -1;
    let lf = -1;
    while (pos < end) {
      if (cr < pos) {
        cr = text.indexOf('\r', pos);
        if (cr < 0) cr = end;
      }
      if (lf < pos) {
        lf = text.indexOf('\n', pos);
        if (lf < 0) lf = end;
      }
      const eol = cr < lf ? cr : lf;
      if (eol === end) {
        const rest = text.slice(pos);
        line += rest;
        // Counted here, on the flat piece: `line` itself is a rope.
        if (maxBufferSize !== undefined) lineBytes += utf8Length(rest, 0);
        break;
      }
      if (line === '') {
        processLine(text, pos, eol);
      } else {
        const whole = line + text.slice(pos, eol);
        line = '';
        lineBytes = 0;
        lineMatters = false;
        processLine(whole, 0, whole.length);
      }
      pos = eol + 1;
      if (eol === cr) {
        if (pos === end) lastWasCr = true;
        else if (text.charCodeAt(pos) === 0x0a) ++pos;
      }
    }
  }

  function decodeString(chunk: string): string {
    if (!bytesPending) {
      // A lone surrogate becomes U+FFFD, as the addon's UTF-8 conversion does.
      const s = chunk as unknown as WellFormed;
      if (typeof s.isWellFormed === 'function' && typeof s.toWellFormed === 'function') {
        return s.isWellFormed() ? chunk : s.toWellFormed();
      }
    }
    // Bytes of a split character are pending (or no toWellFormed): go through
    // the decoder so they join the string's first bytes as the core does.
    encoder ??= new TextEncoder();
    bytesPending = false;
    return decoder.decode(encoder.encode(chunk), { stream: true });
  }

  function overLimit(limit: number): boolean {
    const units = line.length + data.length;
    if (units * 3 <= limit) return false; // a UTF-16 unit is at most 3 UTF-8 bytes
    if (units > limit) return true; // and at least 1 (a pair is 4 bytes)
    dataBytes += utf8Length(data, dataCounted);
    dataCounted = data.length;
    return lineBytes + dataBytes > limit;
  }

  function terminate(): void {
    terminated = true;
    decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    bytesPending = false;
    lastWasCr = false;
    skipping = false;
    line = '';
    lineBytes = 0;
    lineMatters = false;
    clearBlock();
    if (onError !== undefined) {
      onError(new ParseError(`Buffered data exceeded max buffer size of ${maxBufferSize} bytes`, { type: 'max-buffer-size-exceeded' }));
    }
  }

  return {
    feed(chunk: string | Uint8Array): void {
      let text: string;
      if (typeof chunk === 'string') {
        if (terminated) throw new Error(kTerminated);
        text = decodeString(chunk);
      } else if (chunk instanceof Uint8Array) {
        if (terminated) throw new Error(kTerminated);
        text = decoder.decode(chunk, { stream: true });
        bytesPending = mayEndInsideCharacter(chunk, bytesPending);
      } else {
        throw new TypeError(`feed: chunk must be a string or a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
      }
      if (text !== '') processText(text);
      // Decided once per feed, on what would stay buffered until the next one.
      if (line !== '' && !lineMatters) {
        if (!lineMayMatter(line, onComment !== undefined)) {
          line = '';
          lineBytes = 0;
          skipping = true;
        } else if (line.length > 6) {
          lineMatters = true; // past "retry:", longer lines cannot change the answer
        }
      }
      // Checked once per feed, like the core: only what stays buffered counts.
      if (maxBufferSize !== undefined && overLimit(maxBufferSize)) terminate();
    },
    reset(options: { consume?: boolean } = {}): void {
      // While skipping, what the decoder holds belongs to the dropped line.
      if (options.consume === true && !terminated && !skipping) {
        // End of stream: a truncated character decodes to U+FFFD.
        const pendingLine = line + decoder.decode();
        line = '';
        lineBytes = 0;
        lineMatters = false;
        if (pendingLine !== '') processLine(pendingLine, 0, pendingLine.length);
      }
      decoder = new TextDecoder('utf-8', { ignoreBOM: true });
      bytesPending = false;
      line = '';
      lineBytes = 0;
      lineMatters = false;
      clearBlock();
      bomChecked = false;
      lastWasCr = false;
      skipping = false;
      terminated = false;
    },
  };
}

/** Digits only (checked by the caller); undefined past UINT64_MAX, which the core ignores too. */
function parseRetry(digits: string): number | undefined {
  if (digits.length <= 15) return Number(digits);
  const big = BigInt(digits);
  return big > kMaxRetry ? undefined : Number(big);
}

/**
 * Whether an incomplete line may still become a line the parser acts on: a
 * prefix of `data`, `event`, `id` or `retry` (then ':' or nothing), or a
 * comment when comments are wanted. Other lines are dropped up to their
 * break rather than buffered (eventsource-parser 4.1's rule, and the core's).
 */
function lineMayMatter(line: string, comments: boolean): boolean {
  switch (line.charCodeAt(0)) {
    case 0x3a /* : */:
      return comments;
    case 0x64 /* d */:
      return mayBeField(line, 'data');
    case 0x65 /* e */:
      return mayBeField(line, 'event');
    case 0x69 /* i */:
      return mayBeField(line, 'id');
    case 0x72 /* r */:
      return mayBeField(line, 'retry');
    default:
      return false;
  }
}

function mayBeField(line: string, name: string): boolean {
  const n = Math.min(line.length, name.length);
  for (let i = 1; i < n; i++) if (line.charCodeAt(i) !== name.charCodeAt(i)) return false;
  return line.length <= name.length || line.charCodeAt(name.length) === 0x3a;
}

/**
 * Whether a UTF-8 decoder may still hold part of a character after `bytes`
 * (false positives are harmless: they only take the slower string path).
 */
function mayEndInsideCharacter(bytes: Uint8Array, before: boolean): boolean {
  const n = bytes.length;
  if (n === 0) return before;
  if (bytes[n - 1] < 0x80) return false;
  // A pending prefix is a lead byte plus at most two continuation bytes.
  for (let i = n - 1; i >= 0 && i >= n - 3; --i) {
    const b = bytes[i];
    if (b < 0x80) return false;
    if (b >= 0xc0) return n - i < (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2);
  }
  return n < 3 ? true : false;
}

/** UTF-8 bytes of s from unit `from` on (`from` never splits a pair: pieces end at line breaks or whole decoded text). */
function utf8Length(s: string, from: number): number {
  let bytes = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
