// What the bridge needs from a message bus with a log: publish, subscribe,
// append (log and publish in one atomic step), range. Redis implements it
// (redis-transport.ts); NATS JetStream or Postgres could follow without the
// bridge changing.
import type { ReplaySettings } from '../hub/bridge';

/** One entry of a key's log. */
export interface LogEntry {
  id: string;
  payload: string;
}

/** Callbacks a transport makes; each runs on the loop, never re-entrantly. */
export interface TransportHandlers {
  /** A message for a subscribed key, in the order the bus gives per key: `<id>\n<payload>` (id empty without a log). */
  message(key: string, text: string): void;
  /** The subscriber connection was lost: messages may be missed until up(). */
  down(): void;
  /** Subscriptions are live again after down() (not called for the first connection). */
  up(): void;
}

/** A message bus with a per-key log, owned by one bridge. */
export interface BridgeTransport {
  /** Connects; rejects when the bus cannot be reached (the transport keeps retrying when `keepTrying`). */
  start(handlers: TransportHandlers, keepTrying: boolean): Promise<void>;
  /** Publishes `\n<payload>` to the key's subscribers; resolves when the bus took it. Called only after start() connected once. */
  publish(key: string, payload: string): Promise<unknown>;
  /**
   * Appends payload to the key's log (trimmed per `settings`) and publishes
   * `<id>\n<payload>` atomically; resolves with the id, or '' when this
   * publisher's `seq` was appended already (a command resent after a reconnection).
   */
  append(key: string, payload: string, settings: ReplaySettings, publisher: string, seq: number): Promise<string>;
  /** Starts delivering the key's messages; resolves once the bus confirmed it. */
  subscribe(key: string): Promise<void>;
  unsubscribe(key: string): Promise<void>;
  /** The key's log from `fromId` (inclusive), oldest first; rejects on an id the log cannot parse. */
  range(key: string, fromId: string): Promise<LogEntry[]>;
  /**
   * Resolves once every message the bus published before this call has been
   * handed to message(): a log read answered on another connection may
   * overtake the same entries' live copies, which arrive after it.
   */
  sync(): Promise<void>;
  /** The newest id of the key's log, or undefined when it is empty. */
  last(key: string): Promise<string | undefined>;
  /** 'ready', 'connecting' (never connected yet), 'reconnecting' or 'closed'. */
  readonly state: 'connecting' | 'ready' | 'reconnecting' | 'closed';
  /** Reconnections of the subscriber connection so far. */
  readonly reconnects: number;
  /** Stops; connections it opened are closed, an app's own client is left open. */
  close(): Promise<void>;
}
