// The web sink: createSSEStream() with no request returns a
// ReadableStream<Uint8Array> fed with frames the core encoded.
// (Being written: see issue 5.)
import type { SSEMessage } from './encoder';
import type { SSEStreamOptions } from './options';
import type { SSEStream } from './stream';

export interface WebSSEStream {
  /** The response body: hand it to `new Response(stream)` or sseResponse(stream). */
  readonly stream: ReadableStream<Uint8Array>;
  /** Queues one event; false above the high-water mark (the reader is behind) or once closed. */
  send(msg: SSEMessage): boolean;
  /** Ends the stream once what is queued has been read. */
  close(): void;
  /** The SSEStream behind it: signal, 'close'/'drain', comment(), sendRaw(), hub registration. */
  readonly sse: SSEStream;
}

export function createWebStream(_options?: SSEStreamOptions): WebSSEStream {
  throw new Error('createSSEStream(): the web sink is not built yet');
}
