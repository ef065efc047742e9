// getMetrics() and metricsText(): the core's counters (every sink counts
// there), in an object and in the Prometheus text format.
import { PromText } from '../common/prometheus';
import { native, type NativeHistogram } from '../native/binding';
import { bridgeMetrics } from './bridge';
import { refusalCounts } from './limits';

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
  /** Requests refused by connectRatePerAddress (429). */
  rateLimited: number;
  /** Requests refused by allowOrigins or authorize (403/401). */
  denied: number;
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
    ...refusalCounts(),
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

/** getMetrics() in the Prometheus text exposition format (version 0.0.4). */
export function metricsText(): string {
  const m = getMetrics();
  const p = new PromText();
  p.one('sse_connections', 'gauge', 'Open SSE streams.', m.connections);
  p.labelled('sse_key_connections', 'gauge', 'Members per hub key.', 'key', Object.entries(m.keys));
  p.one('sse_events_sent_total', 'counter', 'Event frames queued to clients.', m.eventsSent);
  p.one('sse_bytes_sent_total', 'counter', 'Bytes written to clients.', m.bytesSent);
  p.one('sse_broadcasts_total', 'counter', 'Hub broadcasts.', m.broadcasts);
  p.one('sse_drops_total', 'counter', "Events dropped for slow consumers ('drop' policy).", m.drops);
  p.one('sse_slow_consumer_closes_total', 'counter', "Streams closed as slow consumers ('close' policy).", m.slowConsumerCloses);
  p.one('sse_heartbeats_total', 'counter', 'Keepalive comments sent.', m.heartbeats);
  p.one('sse_replayed_events_total', 'counter', 'Events replayed to resuming streams.', m.replays);
  p.one('sse_replay_gaps_total', 'counter', 'Resumes past the replay ring (sse-gap sent).', m.replayGaps);
  p.one('sse_refused_total', 'counter', 'Requests refused by a connection limit.', m.refused);
  p.one('sse_rate_limited_total', 'counter', 'Requests refused by connectRatePerAddress (429).', m.rateLimited);
  p.one('sse_denied_total', 'counter', 'Requests refused by allowOrigins or authorize (403/401).', m.denied);
  p.labelled('sse_stream_closes_total', 'counter', 'Streams that ended, by reason.', 'reason', Object.entries(m.closes));
  const hist = (name: string, help: string, h: HistogramMetrics) =>
    p.histogram(name, help, h.le.slice(0, -1).map((le, i): [number, number] => [le, h.buckets[i]]), h.sum, h.count);
  hist('sse_time_to_first_event_seconds', 'Time from a stream opening to its first event.', m.timeToFirstEvent);
  hist('sse_stream_duration_seconds', 'How long streams stayed open.', m.streamDuration);
  const bridge = bridgeMetrics()?.text();
  return p.text() + (bridge ? bridge.replace(/\n?$/, '\n') : '');
}
