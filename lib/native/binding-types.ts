// The engine's interface: what lib/ calls, whichever backend implements it
// (the addon, native/addon/*binding.cc, or the TypeScript twin in
// lib/native/js-engine/). Types only; binding.ts picks the backend.
/** Member options given to open(); validated by lib/stream/options.ts. */
export interface MemberOptions {
  highWaterMark: number;
  maxBuffered: number;
  /** constants.Policy */
  policy: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxDurationMs: number;
  /** Ms a member may stay above highWaterMark with its sink taking nothing before onSlowConsumer applies (default 10000). */
  slowConsumerMs?: number;
  /** The client address counted for maxConnectionsPerAddress. */
  address?: string | undefined;
}

/** One row of the core's status table (native/core/status.h). */
export interface StatusInfo {
  name: string;
  code: string;
  kind: 'TypeError' | 'RangeError' | 'SSEError' | '';
  text: string;
}

export interface NativeConstants {
  SendResult: { SUCCESS: number; BACKPRESSURE: number; DROPPED: number; CLOSED: number };
  Policy: { CLOSE: number; DROP: number };
  /** REQUEST: a record [pendingId, REQUEST, listenerId] from a listener (see listen()). */
  Notify: { DRAIN: number; CLOSE: number; DATA: number; DATA_ACCEPTED: number; REQUEST: number };
  Join: { JOINED: number; JOINED_AFTER_GAP: number; ALREADY: number; CLOSED: number };
  Errno: {
    EOF: number;
    ENOBUFS: number;
    ETIMEDOUT: number;
    ECONNRESET: number;
    EPIPE: number;
    ECANCELED: number;
    ENOENT: number;
    EINVAL: number;
    EADDRINUSE: number;
    ENOTSUP: number;
  };
  Status: Record<string, number>;
  statuses: StatusInfo[];
}

/** Shape of the compiled addon (native/addon). Private to the package. */
export interface NativeBinding {
  readonly constants: NativeConstants;
  setErrorFactory(fn: (kind: string, code: string, message: string) => Error): void;

  // The encoder and parser (native/addon/encoder_binding.cc, parser_binding.cc).
  /** Bytes written (> 0), or 0 if it does not fit (lastNeeded() tells the size); throws for a bad field. */
  encodeEventInto(
    pool: Uint8Array,
    offset: number,
    event: string | undefined,
    data: string | undefined,
    id: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
  ): number;
  lastNeeded(): number;
  encodeNDJSON(json: string): Buffer;
  NativeParser: new (maxBufferSize: number, comments: boolean) => NativeParserHandle;

  // Members (native/addon/engine_binding.cc).
  /** The response head bytes; throws a TypeError with a code naming a bad header. */
  buildHead(status: number, reason: string, names: string[], values: string[]): Buffer;
  /** A new held external member; returns its id. */
  open(options: MemberOptions): number;
  /** A new function member; returns its id. */
  openFunction(): number;
  /** Turns a held member into a socket member: 0, or a negative libuv error code (member unchanged). */
  adoptSocket(id: number, fd: number, head: Uint8Array): number;
  /** A held member's sink is ready: queued bytes are handed over from now on. */
  attach(id: number): void;
  /** The sink took the last buffer handed to it. */
  ack(id: number): void;
  /** The external sink's client left (Errno.EOF) or failed. */
  gone(id: number, status: number): void;
  /** constants.SendResult; throws for a bad field. */
  send(
    id: number,
    event: string | undefined,
    data: string | undefined,
    eventId: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
  ): number;
  sendBytes(id: number, bytes: Uint8Array): number;
  flush(id: number): void;
  close(id: number, graceful: boolean): void;
  bufferedAmount(id: number): number;
  closeAll(graceful: boolean): void;
  /**
   * fn gets [id, kind, status] * n once per loop turn (constants.Notify);
   * a DATA record's status indexes `buffers`. fn sets a DATA record's kind
   * to DATA_ACCEPTED when its sink took the bytes at once.
   */
  setNotify(fn: (records: Int32Array, n: number, buffers: Buffer[]) => void): void;
  setLimits(limits: { maxConnections?: number; maxPerKey?: number; maxPerAddress?: number }): void;
  /** constants.Status: 0 when a stream from `address` joining `keys` may open. */
  checkLimits(address: string | undefined, keys: readonly string[]): number;
  stats(): EngineStats;
  /** Figures of a live member (also while its close is reported), or undefined. */
  memberStats(id: number): { events: number; bytes: number; timeToFirstEventMs: number; durationMs: number } | undefined;
  errName(code: number): string;

  // The core's own listener (native/addon/listener_binding.cc, native/core/io/listener.h).
  /**
   * Binds host (an IPv4 or IPv6 address, no name lookup; port 0: any) and
   * accepts connections on the loop itself. A listener id >= 1, or a
   * negative libuv error code (Errno.EADDRINUSE, EINVAL for a host that is
   * not an address...) with nothing left open. Each complete request head
   * arrives as a [pendingId, Notify.REQUEST, listenerId] record; bad heads
   * are answered by the core (400/413/431/505). A head must arrive within
   * headTimeoutMs, and the answer (acceptRequest/respondRequest) within
   * headTimeoutMs of it, or the connection is closed.
   */
  listen(host: string, port: number, backlog: number, maxHeadBytes: number, headTimeoutMs: number, maxPending: number, reusePort?: boolean): number;
  /** The bound address and port, or undefined for an unknown or closed listener. */
  listenerAddress(id: number): [address: string, port: number] | undefined;
  /** Stops accepting and closes its unanswered connections; idempotent. */
  closeListener(id: number): void;
  /** Whether the listening socket keeps the event loop alive (it does at first). */
  listenerRef(id: number, ref: boolean): void;
  /** The listener's counters, or undefined for an unknown or closed listener. */
  listenerStats(id: number): ListenerStats | undefined;
  /**
   * The parsed head of a pending connection (strings hold one char per byte,
   * as node:http's), or undefined once it is gone (answered, expired, client left).
   */
  requestHead(
    pendingId: number,
  ): [method: string, target: string, versionMinor: number, remoteAddress: string, remotePort: number, extraBytes: number, ...headers: string[]] | undefined;
  /**
   * Turns held member memberId (from open()) into a socket member on the
   * pending connection, `head` written first: 0, or Errno.ENOENT (unknown,
   * expired, answered, client left), Errno.EINVAL (not a held member), or
   * another code (out of fds or memory: the connection is closed).
   */
  acceptRequest(pendingId: number, memberId: number, head: Uint8Array): number;
  /**
   * Answers with status, reason, the headers (Content-Length, Connection and
   * Transfer-Encoding given are left out), Content-Length, Connection: close
   * and body, then closes: 0, or Errno.ENOENT when the pending connection is
   * gone. Throws a TypeError with a code for a bad header (nothing written).
   */
  respondRequest(pendingId: number, status: number, reason: string, names: string[], values: string[], body: Uint8Array): number;

  // The hub (native/addon/hub_binding.cc), the only registry.
  hubConfigure(key: string, maxEvents: number, maxAgeMs: number): void;
  /** constants.Join */
  hubJoin(key: string, id: number, lastEventId: string | undefined): number;
  hubLeave(key: string, id: number): boolean;
  /** Keys the member is in. */
  memberKeyCount(id: number): number;
  /** Members reached, or [members, ...function member ids] when the key has function members. */
  hubBroadcast(
    key: string,
    event: string | undefined,
    data: string | undefined,
    id: string | undefined,
    retry: number | undefined,
    comment: string | undefined,
  ): number | Int32Array | undefined;
  /** Members of `key`; without one, distinct members of every key. */
  hubCount(key?: string): number;
  /** Members of `key` whose queue is above their high-water mark. */
  hubPressure(key: string): number;
  /** Members per key, for every key with members. */
  hubKeys(): Record<string, number>;
  /** fn gets broadcasts published on other threads, for this thread's function members. */
  setRemote(
    fn: (key: string, ids: Int32Array, event: string | undefined, data: string | undefined, id: string | undefined, retry: number | undefined) => void,
  ): void;
}

export interface EngineStats {
  connectionsOpen: number;
  connectionsAdopted: number;
  streamsOpened: number;
  bytesWritten: number;
  heartbeatsSent: number;
  drops: number;
  slowConsumerCloses: number;
  tryWrites: number;
  queuedWrites: number;
  handoffs: number;
  notificationBatches: number;
  eventsSent: number;
  refused: number;
  timerVisits: number;
  broadcasts: number;
  replayedEvents: number;
  replayGaps: number;
  hubMembers: number;
  closedByServer: number;
  closedClientGone: number;
  closedSlowConsumer: number;
  closedTimeout: number;
  closedError: number;
  timeToFirstEvent: NativeHistogram;
  streamDuration: NativeHistogram;
}

/** Counters of one listener (native/core/io/listener.h ListenerStats); pending is current. */
export interface ListenerStats {
  accepted: number;
  pending: number;
  requests: number;
  badHeads: number;
  headTimeouts: number;
  answerTimeouts: number;
  overCap: number;
  adopted: number;
  responded: number;
  clientGone: number;
  acceptErrors: number;
}

/** A histogram of the core (native/core/stats.h): counts[i] <= boundsMs[i], the last one above all. */
export interface NativeHistogram {
  boundsMs: number[];
  counts: number[];
  sumMs: number;
  count: number;
}

/** A core parser: feed() returns the text of the records it wrote to `records`. */
export interface NativeParserHandle {
  feed(chunk: string | Uint8Array): string;
  reset(consume: boolean): string;
  readonly records: Int32Array;
}
