// The seam between the hub and a bridge to other processes (sse-native/redis).
// The hub knows only this interface: it offers each broadcast to the bridge,
// lets it take over resumes, tells it when a key gets its first local member,
// and records each key's replay settings here so a bridge connected later
// still knows them. No Node, no addon: a bridge imports this, never the
// reverse.
import type { MessageArgs, SSEMessage } from '../native/encoder';
import type { SSEStream } from '../stream/stream';

/** A key's replay settings as configureKey resolved them (maxEvents > 0). */
export interface ReplaySettings {
  maxEvents: number;
  /** 0: no age limit. */
  maxAgeMs: number;
}

/**
 * A transport that carries broadcasts between processes. Every method is
 * called synchronously from the hub's public functions and must not throw
 * for transport trouble (it counts it and degrades instead).
 */
export interface HubBridge {
  /**
   * Takes a broadcast validated by the hub (`args` is its encoded form).
   * True: the bridge will deliver it to this process's members (with
   * deliverLocal) when the transport hands it back, so the hub must not;
   * false: the hub delivers it locally now (local-only).
   */
  publish(key: string, msg: SSEMessage, args: MessageArgs): boolean;
  /**
   * A stream asks to resume `key` after `lastEventId`. True: the bridge
   * sends it what it missed and then registers it itself (without resume),
   * so nothing is lost or sent twice; false: the hub's own ring does it.
   */
  resume(key: string, stream: SSEStream, lastEventId: string): boolean;
  /** `key` got its first local member: the bridge starts listening for it. */
  watch(key: string): void;
}

let current: HubBridge | undefined;
const replay = new Map<string, ReplaySettings>();

/** Installs (or, with undefined, removes) the process's bridge; at most one at a time. */
export function setBridge(bridge: HubBridge | undefined): void {
  current = bridge;
}

/** The installed bridge, if any. */
export function getBridge(): HubBridge | undefined {
  return current;
}

/** @internal Called by configureKey: maxEvents 0 means the key keeps no replay. */
export function noteReplay(key: string, maxEvents: number, maxAgeMs: number): void {
  if (maxEvents === 0) replay.delete(key);
  else replay.set(key, { maxEvents, maxAgeMs });
}

/** The replay settings of `key`, or undefined when it keeps none. */
export function replayOf(key: string): ReplaySettings | undefined {
  return replay.get(key);
}

/** A bridge's own counters, merged into getMetrics() and metricsText(). */
export interface BridgeMetricsProvider {
  /** The counters as an object (getMetrics().bridge). */
  object(): Record<string, unknown>;
  /** The same as Prometheus text lines (appended to metricsText()). */
  text(): string;
}

let metricsProvider: BridgeMetricsProvider | undefined;

/** Installs the bridge module's metrics (sse-native/redis does at load). */
export function setBridgeMetrics(provider: BridgeMetricsProvider | undefined): void {
  metricsProvider = provider;
}

/** The installed metrics provider, if any. */
export function bridgeMetrics(): BridgeMetricsProvider | undefined {
  return metricsProvider;
}
