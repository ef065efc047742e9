// createParser: the shape of eventsource-parser 4.x over the core's WHATWG
// parser. One native call per feed(); the callbacks are replayed here from
// the records the core wrote (see native/addon/parser_binding.cc).
import { native } from './native';

/** A parsed event. `event` and `id` are undefined when the block had none. */
export interface EventSourceMessage {
  event?: string | undefined;
  id?: string | undefined;
  data: string;
}

// One ParseError class for both parsers (this one and the browser build's),
// so `instanceof` holds whichever produced it.
import { ParseError, checkParserConfig, type ParseErrorType } from './client/parse-error';
export { ParseError, type ParseErrorType };

/** Callbacks, called synchronously from feed()/reset() in stream order. */
export interface ParserCallbacks {
  /** A blank line ended a block with data. */
  onEvent?: ((event: EventSourceMessage) => void) | undefined;
  /** A blank line ended a block with a valid `id` field (before its onEvent, also when it had no data). */
  onId?: ((id: string) => void) | undefined;
  /** A `retry` field of ASCII digits: the reconnection time in ms. */
  onRetry?: ((retry: number) => void) | undefined;
  /** A comment line (`:` prefix), without the colon and one leading space. */
  onComment?: ((comment: string) => void) | undefined;
  /** An ignored field or an oversized buffer. */
  onError?: ((error: ParseError) => void) | undefined;
}

export interface ParserConfig extends ParserCallbacks {
  /**
   * Maximum bytes buffered for an incomplete line plus pending event data;
   * past it onError gets 'max-buffer-size-exceeded' and feed() throws until reset().
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

const REC_EVENT = 1;
const REC_ID = 2;
const REC_RETRY = 3;
const REC_COMMENT = 4;
const REC_ERROR = 5;
const ERROR_TYPES: ParseErrorType[] = ['invalid-retry', 'unknown-field', 'max-buffer-size-exceeded'];

/** Creates an incremental Server-Sent Events parser (eventsource-parser compatible). */
export function createParser(config: ParserConfig): EventSourceParser {
  checkParserConfig(config);
  const { onEvent, onId, onRetry, onComment, onError, maxBufferSize } = config;
  const handle = new native.NativeParser(maxBufferSize ?? 0);

  function replay(text: string): void {
    const r = handle.records;
    if (r[1] !== 0) {
      throw new Error('Cannot feed parser: it was terminated after exceeding the configured max buffer size. Call `reset()` to resume parsing.');
    }
    const end = r[0] + 2;
    let pos = 0;
    let i = 2;
    while (i < end) {
      switch (r[i]) {
        case REC_EVENT: {
          const flags = r[i + 1];
          const evEnd = pos + r[i + 2];
          const idEnd = evEnd + r[i + 3];
          const dataEnd = idEnd + r[i + 4];
          if (onEvent !== undefined) {
            onEvent({
              id: flags & 2 ? text.slice(evEnd, idEnd) : undefined,
              event: flags & 1 ? text.slice(pos, evEnd) : undefined,
              data: text.slice(idEnd, dataEnd),
            });
          }
          pos = dataEnd;
          i += 5;
          break;
        }
        case REC_ID: {
          const idEnd = pos + r[i + 1];
          if (onId !== undefined) onId(text.slice(pos, idEnd));
          pos = idEnd;
          i += 2;
          break;
        }
        case REC_RETRY:
          if (onRetry !== undefined) onRetry((r[i + 1] >>> 0) * 4294967296 + (r[i + 2] >>> 0));
          i += 3;
          break;
        case REC_COMMENT: {
          const cEnd = pos + r[i + 1];
          if (onComment !== undefined) onComment(text.slice(pos, cEnd));
          pos = cEnd;
          i += 2;
          break;
        }
        case REC_ERROR: {
          const type = ERROR_TYPES[r[i + 1]];
          const fEnd = pos + r[i + 2];
          const vEnd = fEnd + r[i + 3];
          const lEnd = vEnd + r[i + 4];
          if (onError !== undefined) onError(makeError(type, text.slice(pos, fEnd), text.slice(fEnd, vEnd), text.slice(vEnd, lEnd)));
          pos = lEnd;
          i += 5;
          break;
        }
        default:
          throw new Error(`sse-native: corrupt parser record ${r[i]}`);
      }
    }
  }

  function makeError(type: ParseErrorType, field: string, value: string, line: string): ParseError {
    switch (type) {
      case 'invalid-retry':
        return new ParseError(`Invalid \`retry\` value: "${value}"`, { type, value, line });
      case 'unknown-field':
        return new ParseError(`Unknown field "${field.length > 20 ? `${field.slice(0, 20)}…` : field}"`, { type, field, value, line });
      default:
        return new ParseError(`Buffered data exceeded max buffer size of ${maxBufferSize} bytes`, { type });
    }
  }

  return {
    feed(chunk: string | Uint8Array): void {
      if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
        throw new TypeError(`feed: chunk must be a string or a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
      }
      replay(handle.feed(chunk));
    },
    reset(options: { consume?: boolean } = {}): void {
      replay(handle.reset(options.consume === true));
    },
  };
}
