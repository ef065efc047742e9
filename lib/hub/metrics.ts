// getMetrics() and metricsText(): the core's counters (every sink counts
// there), in an object and in the Prometheus text format.
import { native, type NativeHistogram } from '../native/binding';
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
  /** Why streams ended, by reason. */
  closes: { server: number; clientGone: number; slowConsumer: number; timeout: number; error: number };
  /** Time from a stream opening to its first event (seconds). */
  timeToFirstEvent: HistogramMetrics;
  /** How long streams stayed open (seconds), counted when they close. */
  streamDuration: HistogramMetrics;
  /** The bridge to other processes (sse-native/redis) once its module is loaded: state, messages in/out, lag, outbox. */
  bridge?: Record<string, unknown>;
}

/** A cumulative histogram: `buckets[i]` observations at or below `le[i]` seconds (the last `le` is Infinity). */
export interface HistogramMetrics {
  le: number[];
  buckets: number[];
  sum: number;
  count: number;
}

function histogram(h: NativeHistogram): HistogramMetrics {
  const le = [...h.boundsMs.map((ms) => ms / 1000), Infinity];
  let acc = 0;
  const buckets = h.counts.map((c) => (acc += c));
  return { le, buckets, sum: h.sumMs / 1000, count: h.count };
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
    closes: {
      server: s.closedByServer,
      clientGone: s.closedClientGone,
      slowConsumer: s.closedSlowConsumer,
      timeout: s.closedTimeout,
      error: s.closedError,
    },
    timeToFirstEvent: histogram(s.timeToFirstEvent),
    streamDuration: histogram(s.streamDuration),
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
  out.push('# HELP sse_stream_closes_total Streams that ended, by reason.', '# TYPE sse_stream_closes_total counter');
  for (const [reason, n] of Object.entries(m.closes)) out.push(`sse_stream_closes_total{reason="${reason}"} ${n}`);
  const hist = (name: string, help: string, h: HistogramMetrics) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    h.le.forEach((le, i) => out.push(`${name}_bucket{le="${le === Infinity ? '+Inf' : String(le)}"} ${h.buckets[i]}`));
    out.push(`${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
  };
  hist('sse_time_to_first_event_seconds', 'Time from a stream opening to its first event.', m.timeToFirstEvent);
  hist('sse_stream_duration_seconds', 'How long streams stayed open.', m.streamDuration);
  const bridge = bridgeMetrics()?.text();
  return out.join('\n') + '\n' + (bridge ? bridge.replace(/\n?$/, '\n') : '');
}
