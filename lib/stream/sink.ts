// What an external member's sink must do: take the bytes the core hands it
// once per loop turn, and end. The queue, backpressure, the slow-consumer
// policy, heartbeats and timeouts are the core's (native/core/io/connection.h);
// a sink only delivers and acknowledges.

/** A place an external member's bytes go: a node:http response or a web ReadableStream. */
export interface Sink {
  /**
   * Takes one buffer from the core. True when the sink took it at once (the
   * core may hand the next); false when it will call the stream's
   * acknowledge() once it has (the core holds the rest until then).
   */
  deliver(bytes: Buffer): boolean;
  /** The core closed the member: end (`reason` undefined: a graceful close that wrote everything) or abort. */
  end(reason: Error | undefined): void;
}

/** Where a stream writes: 'adopted' (the core owns the socket), 'response' (res.write), 'web', or 'pending' while a request body is read. */
export type SinkKind = 'adopted' | 'response' | 'web' | 'pending';
