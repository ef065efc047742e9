// maxEventBytes: the largest event frame send() and broadcast() accept, per
// stream (the option) or for the process (setLimits). A frame over it is a
// RangeError (ERR_OUT_OF_RANGE) and nothing is sent.
import { argTypeError, rangeError } from '../common/errors';
import { encodeArgs, type MessageArgs } from '../native/encoder';

// 0: no limit. Set by setLimits({ maxEventBytes }).
let processMax = 0;

/** @internal Sets the process-wide maxEventBytes (0: none). */
export function setMaxEventBytes(n: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw argTypeError(`setLimits: \`maxEventBytes\` must be a non-negative integer, got ${typeof n === 'number' ? n : typeof n}`);
  }
  processMax = n;
}

/** @internal The limit a stream whose own option is `own` (0 or undefined: none) applies. */
export function effectiveMaxEventBytes(own: number | undefined): number {
  return own !== undefined && own > 0 ? own : processMax;
}

function tooBig(where: string, size: number, max: number): RangeError {
  return rangeError(
    `${where}: the event is ${size} bytes on the wire, over maxEventBytes (${max}); split it into smaller events, or raise maxEventBytes (the stream option, or setLimits({ maxEventBytes }))`,
  );
}

/** @internal Throws a RangeError (ERR_OUT_OF_RANGE) when the frame of `args` is over `max` bytes (0: no limit). */
export function checkEventSize(args: MessageArgs, max: number, where: string): void {
  if (max <= 0) return;
  // A UTF-16 unit is at most 3 bytes of UTF-8 and a line break at most 7
  // ("\ndata: "): a frame this short cannot be over, with no encoding.
  let units = 0;
  for (const f of args) if (typeof f === 'string') units += f.length;
  if (units * 7 + 64 <= max) return;
  const size = encodeArgs(args).length;
  if (size > max) throw tooBig(where, size, max);
}

/** @internal The same for bytes already encoded (an NDJSON line). */
export function checkBytes(size: number, max: number, where: string): void {
  if (max > 0 && size > max) throw tooBig(where, size, max);
}
