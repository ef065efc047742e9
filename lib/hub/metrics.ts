// getMetrics() and metricsText(): the core's counters (every sink counts
// there), in an object and in the Prometheus text format.
import { native } from '../native/binding';
import { bridgeMetrics } from './bridge';

export interface HubMetrics {
  /** Open streams of this thread (every sink). */
  connections: number;
  /** Members per key. */
  keys: Record<string, number>;
  eventsSent: number;
  bytesSent: number;
  broadcasts: number;
  drops: number;
  slowConsumerCloses: number;
  heartbeats: number;
  /** Events replayed to resuming streams. */
  replays: number;
  /** Resumes whose Last-Event-ID was no longer in the ring (sent `sse-gap`). */
  replayGaps: number;
  /** Requests refused by a connection limit (503). */
  refused: number;
  /** The bridge to other processes (sse-native/redis) once its module is loaded: state, messages in/out, lag, outbox. */
  bridge?: Record<string, unknown>;
}

/** Counters of this thread's streams and hub. */
export function getMetrics(): HubMetrics {
  const s = native.stats();
  return {
    connections: s.connectionsOpen,
    keys: native.hubKeys(),
    eventsSent: s.eventsSent,
    bytesSent: s.bytesWritten,
    broadcasts: s.broadcasts,
    drops: s.drops,
    slowConsumerCloses: s.slowConsumerCloses,
    heartbeats: s.heartbeatsSent,
    replays: s.replayedEvents,
    replayGaps: s.replayGaps,
    refused: s.refused,
    ...(bridgeMetrics() ? { bridge: bridgeMetrics()!.object() } : {}),
  };
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** getMetrics() in the Prometheus text exposition format (version 0.0.4). */
export function metricsText(): string {
  const m = getMetrics();
  const out: string[] = [];
  const one = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  };
  one('sse_connections', 'gauge', 'Open SSE streams.', m.connections);
  out.push('# HELP sse_key_connections Members per hub key.', '# TYPE sse_key_connections gauge');
  for (const [k, v] of Object.entries(m.keys)) out.push(`sse_key_connections{key="${escapeLabel(k)}"} ${v}`);
  one('sse_events_sent_total', 'counter', 'Event frames queued to clients.', m.eventsSent);
  one('sse_bytes_sent_total', 'counter', 'Bytes written to clients.', m.bytesSent);
  one('sse_broadcasts_total', 'counter', 'Hub broadcasts.', m.broadcasts);
  one('sse_drops_total', 'counter', "Events dropped for slow consumers ('drop' policy).", m.drops);
  one('sse_slow_consumer_closes_total', 'counter', "Streams closed as slow consumers ('close' policy).", m.slowConsumerCloses);
  one('sse_heartbeats_total', 'counter', 'Keepalive comments sent.', m.heartbeats);
  one('sse_replayed_events_total', 'counter', 'Events replayed to resuming streams.', m.replays);
  one('sse_replay_gaps_total', 'counter', 'Resumes past the replay ring (sse-gap sent).', m.replayGaps);
  one('sse_refused_total', 'counter', 'Requests refused by a connection limit.', m.refused);
  const bridge = bridgeMetrics()?.text();
  return out.join('\n') + '\n' + (bridge ? bridge.replace(/\n?$/, '\n') : '');
}
