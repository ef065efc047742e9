// What pipe() and forward() need of a stream: the public SSEStream surface
// they use, as a type of its own so that stream.ts can offer them as
// methods without an import cycle.
import type { SSEMessage } from '../native/encoder';

/** The part of SSEStream that pipe() and forward() drive. */
export interface PipeTarget {
  send(msg: SSEMessage): boolean;
  sendRaw(bytes: Uint8Array, fields?: { event?: string; id?: string | number }): boolean;
  comment(text: string): boolean;
  close(): void;
  readonly closed: boolean;
  readonly signal: AbortSignal;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}
