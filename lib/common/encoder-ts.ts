// The SSE and NDJSON encoders in plain TypeScript: the twin of
// native/core/frame.cc for a backend where the addon cannot load (Edge,
// Workers, Bun, Deno, browsers, no prebuilt binary). Same fields, same
// layout, same line splitting, same refusals; held to the core byte for byte
// by test/vectors/encoder.vectors (test/03 and test/native/
// encoder_vectors_test.cc). No Node APIs: TextEncoder only.

/** One event to encode; a field left undefined is left out (as the core's has_* flags). */
export interface FrameMessage {
  /** `event:`; no CR or LF. */
  event?: string | undefined;
  /** One `data:` line per line (CR, LF and CRLF split it). */
  data?: string | undefined;
  /** `id:`; no CR, LF or NUL. */
  id?: string | undefined;
  /** `retry:` in ms, written in decimal; a non-negative integer (bigint up to 2^64-1). */
  retry?: number | bigint | undefined;
  /** One `: ` comment line per line, before the fields. */
  comment?: string | undefined;
}

/** Why a message cannot be encoded (native/core/frame.h FrameStatus, same numbers). */
export const FrameStatus = { ok: 0, invalidEvent: 1, invalidId: 2 } as const;
export type FrameStatusCode = (typeof FrameStatus)[keyof typeof FrameStatus];

const kBreak = /[\r\n]/;
const kBreakOrNul = /[\r\n\0]/;
// CRLF first: it is one break, as in the core's putLines.
const kLines = /\r\n|\r|\n/;

let utf8: TextEncoder | undefined;

/** Checks the fields that must not break a line: CR/LF in `event`, CR/LF/NUL in `id`. */
export function validateFrame(msg: FrameMessage): FrameStatusCode {
  if (msg.event !== undefined && kBreak.test(msg.event)) return FrameStatus.invalidEvent;
  if (msg.id !== undefined && kBreakOrNul.test(msg.id)) return FrameStatus.invalidId;
  return FrameStatus.ok;
}

/** The TypeError the addon's encoder throws for the same status (lib/native/encoder.ts frameError). */
export function frameStatusError(status: FrameStatusCode): TypeError {
  return status === FrameStatus.invalidEvent
    ? new TypeError('`event` must not contain CR or LF: pass a one-line event name (line breaks belong in `data`)')
    : new TypeError('`id` must not contain CR, LF or NUL: pass a one-line id (e.g. a counter)');
}

/**
 * The frame's text (what encodeFrame encodes): comment lines, `event:`,
 * `id:`, `retry:`, `data:` lines, then the blank line. The message must be
 * valid (see validateFrame).
 */
export function frameText(msg: FrameMessage): string {
  let s = '';
  if (msg.comment !== undefined) s += lines(': ', msg.comment);
  if (msg.event !== undefined) s += 'event: ' + msg.event + '\n';
  if (msg.id !== undefined) s += 'id: ' + msg.id + '\n';
  if (msg.retry !== undefined) s += 'retry: ' + String(msg.retry) + '\n';
  if (msg.data !== undefined) s += lines('data: ', msg.data);
  return s + '\n';
}

/**
 * Validates and encodes one event to UTF-8 bytes (a lone surrogate becomes
 * U+FFFD, as in the addon). Throws the addon's TypeError for a bad `event`
 * or `id`; nothing is encoded then.
 */
export function encodeFrame(msg: FrameMessage): Uint8Array {
  const status = validateFrame(msg);
  if (status !== FrameStatus.ok) throw frameStatusError(status);
  return (utf8 ??= new TextEncoder()).encode(frameText(msg));
}

/** One NDJSON line: the JSON text as given, a raw CR or LF escaped as \r or \n, then LF. */
export function encodeNdjson(json: string): Uint8Array {
  let line = json;
  if (kBreak.test(json)) line = json.replace(/[\r\n]/g, (c) => (c === '\n' ? '\\n' : '\\r'));
  return (utf8 ??= new TextEncoder()).encode(line + '\n');
}

// `text` as prefixed lines, one per line of text; a text without a break (the
// common case) is not split.
function lines(prefix: string, text: string): string {
  if (!kBreak.test(text)) return prefix + text + '\n';
  let s = '';
  for (const line of text.split(kLines)) s += prefix + line + '\n';
  return s;
}
