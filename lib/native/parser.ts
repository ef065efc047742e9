// createParser: the shape of eventsource-parser 4.x over the core's WHATWG
// parser. One native call per feed(); the callbacks are replayed here from
// the records the core wrote (see native/addon/parser_binding.cc). On the
// TypeScript backend it is the client's parser (lib/client/parser-ts.ts),
// held to the core's by the same vectors.
import { backend, native } from './binding';
import { createParser as createTsParser } from '../client/parser-ts';

// One ParseError class for both parsers (this one and the browser build's),
// so `instanceof` holds whichever produced it.
import { ParseError, checkParserConfig, type EventSourceParser, type ParseErrorType, type ParserConfig } from '../common/parser-api';
export { ParseError, type ParseErrorType };
export type { EventSourceMessage, EventSourceParser, ParserCallbacks, ParserConfig } from '../common/parser-api';

const REC_EVENT = 1;
const REC_ID = 2;
const REC_RETRY = 3;
const REC_COMMENT = 4;
const REC_ERROR = 5;
const ERROR_TYPES: ParseErrorType[] = ['invalid-retry', 'unknown-field', 'max-buffer-size-exceeded'];

/** Creates an incremental Server-Sent Events parser (eventsource-parser compatible). */
export function createParser(config: ParserConfig): EventSourceParser {
  // The TypeScript backend parses with the client's twin of the core's parser.
  if (backend === 'js') return createTsParser(config);
  checkParserConfig(config);
  const { onEvent, onId, onRetry, onComment, onError, maxBufferSize } = config;
  // Without onComment the core neither reports comments nor keeps a partial one.
  const handle = new native.NativeParser(maxBufferSize ?? 0, onComment !== undefined);

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
          throw new Error(`sse-native: corrupt parser record ${r[i]} (a bug in sse-native, not in your code: please report it with the input that caused it)`);
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
