// sse-native/redis: broadcast and replay across processes through Redis.
// Not loaded by the main entry: ioredis is an optional peer dependency.
import type { Cluster, Redis as RedisClient, RedisOptions } from 'ioredis';
import { kLagBuckets, LogBridge, type BridgeCounters } from './log-bridge';
import { RedisTransport } from './redis-transport';
import { setBridgeMetrics } from '../hub/bridge';
import { PromText } from '../common/prometheus';

/** Options of connectRedis: where Redis is and what to do when it is not there. */
export interface ConnectRedisOptions {
  /** `redis://[user:pass@]host:port[/db]` (or `rediss://`); default redis://127.0.0.1:6379. */
  url?: string;
  /** The app's own ioredis client instead of `url`: it is used for commands and duplicated to subscribe; close() leaves it open. */
  client?: RedisClient;
  /** Prefix of every Redis key and channel the bridge uses. @defaultValue 'sse:' */
  prefix?: string;
  /**
   * When Redis cannot be reached at start: 'throw' (connectRedis rejects with
   * code ERR_SSE_REDIS_UNAVAILABLE) or 'local' (broadcasts reach this
   * process only until Redis answers, then go through it).
   * @defaultValue 'throw'
   */
  whenUnavailable?: 'throw' | 'local';
  /** How long the first connection may take before it counts as unavailable. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /**
   * Broadcasts waiting for Redis (disconnected, or slow) at most. Past it the
   * newest broadcast is delivered in this process only (counted in
   * outboxOverflows); the queued ones keep their order. @defaultValue 10000
   */
  maxOutbox?: number;
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE); default: when the server is Redis 7.0 or newer. */
  sharded?: boolean;
  /** Extra ioredis options for the connections the bridge opens (TLS, password, ...). */
  redisOptions?: RedisOptions;
}

/** A live bridge: this process's broadcasts go through Redis until close(). */
export interface RedisBridge {
  /** 'connecting' (not reached yet, local-only), 'ready', 'reconnecting' (queued in the outbox), 'closed'. */
  readonly state: 'connecting' | 'ready' | 'reconnecting' | 'closed';
  /** Resolves once this process listens to `key` on Redis: broadcasts made after it reach the key's members here. */
  whenSubscribed(key: string): Promise<void>;
  /**
   * Resolves once Redis took every broadcast made so far in this process.
   * broadcast() returns before that; await this where order across
   * processes matters (e.g. before answering the request that broadcast).
   */
  flushed(): Promise<void>;
  /** This bridge's counters (as getRedisMetrics()). */
  metrics(): RedisMetrics;
  /** Waits up to 2 s for queued broadcasts, then stops; broadcast is local-only again. */
  close(): Promise<void>;
}

/** Counters of the bridge, for dashboards. */
export interface RedisMetrics {
  /** 'off' when no bridge is connected. */
  state: 'off' | RedisBridge['state'];
  /** Broadcasts Redis accepted from this process. */
  messagesOut: number;
  /** Messages received from Redis and delivered to this process's members (one native broadcast each). */
  messagesIn: number;
  /** Broadcasts Redis refused (delivered in this process only). */
  publishErrors: number;
  /** Broadcasts waiting for Redis now. */
  outboxDepth: number;
  /** Broadcasts delivered locally only because the outbox was full. */
  outboxOverflows: number;
  /** Broadcasts delivered locally only because Redis was never reached ('local' mode). */
  localOnly: number;
  /** Reconnections of the subscriber connection. */
  reconnects: number;
  /** Resumes served from the Redis Stream / answered by the local ring (client at the head). */
  resumesFromLog: number;
  resumesFromRing: number;
  /** Resumes whose Last-Event-ID the Stream no longer keeps (sent sse-gap). */
  resumeGaps: number;
  /** Catch-ups after a reconnection, events read back from Streams then, sse-gap events sent to keys. */
  catchUps: number;
  catchUpEvents: number;
  gapsSent: number;
  /** Publish-to-delivery lag of messages delivered here (live or read back after a reconnection; publisher's clock to ours), in ms. */
  lag: { count: number; sumMs: number; buckets: Array<[le: number, count: number]> };
}

let current: LogBridge | undefined;

/** An error of the Redis bridge, with a stable `code`. */
export class SSERedisError extends Error {
  constructor(
    message: string,
    readonly code: 'ERR_SSE_REDIS_UNAVAILABLE',
  ) {
    super(message);
    this.name = 'SSERedisError';
  }
}

function checkOptions(o: ConnectRedisOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('connectRedis: options must be an object like { url, prefix }');
  if (o.url !== undefined && (typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url))) {
    throw Object.assign(new TypeError(`connectRedis: \`url\` must look like redis://host:6379, got ${JSON.stringify(o.url)}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  if (o.client !== undefined) {
    const c = o.client as unknown as Partial<Cluster> & { isCluster?: boolean; duplicate?: unknown };
    if (c.isCluster === true) {
      throw Object.assign(new TypeError('connectRedis: Redis Cluster is not supported yet; pass a client of one Redis server (or its url)'), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    if (typeof c.duplicate !== 'function') {
      throw Object.assign(new TypeError('connectRedis: `client` must be an ioredis Redis instance (new Redis(...))'), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
  }
  if (o.url !== undefined && o.client !== undefined) throw new TypeError('connectRedis: pass `url` or `client`, not both');
  if (o.prefix !== undefined && typeof o.prefix !== 'string') throw new TypeError('connectRedis: `prefix` must be a string');
  if (o.whenUnavailable !== undefined && o.whenUnavailable !== 'throw' && o.whenUnavailable !== 'local') {
    throw new TypeError("connectRedis: `whenUnavailable` must be 'throw' or 'local'");
  }
  for (const f of ['maxOutbox', 'connectTimeoutMs'] as const) {
    const v = o[f];
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw new TypeError(`connectRedis: \`${f}\` must be a positive integer`);
  }
}

/**
 * Connects this process to Redis and installs the bridge: from then on
 * `broadcast` goes through Redis and reaches the key's members in every
 * connected process once (this one included), and keys configured with
 * replay keep their events in a Redis Stream whose ids are the event ids.
 * Resolves when Redis answered (or at once with whenUnavailable: 'local').
 */
export async function connectRedis(options: ConnectRedisOptions = {}): Promise<RedisBridge> {
  checkOptions(options);
  if (current !== undefined && !current.isClosed) {
    throw new Error('connectRedis: this process is already connected; close() the bridge first');
  }
  const transport = new RedisTransport({
    url: options.url,
    client: options.client,
    prefix: options.prefix ?? 'sse:',
    sharded: options.sharded,
    redisOptions: options.redisOptions,
  });
  const bridge = new LogBridge(transport, { maxOutbox: options.maxOutbox ?? 10_000, idleUnsubscribeMs: 30_000 });
  const local = options.whenUnavailable === 'local';
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const started = transport.start(
    {
      message: (key, text) => bridge.onMessage(key, text),
      down: () => bridge.onDown(),
      up: () => bridge.onUp(),
    },
    local,
  );
  if (!local) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        started,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms (is Redis running and reachable? raise connectTimeoutMs if it is slow)`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      await transport.close();
      const where = options.url ?? (options.client ? 'the given client' : 'redis://127.0.0.1:6379');
      throw new SSERedisError(
        `connectRedis: cannot reach Redis at ${where} (${(err as Error).message}); start redis-server there, fix the url, ` +
          "or pass { whenUnavailable: 'local' } to deliver in this process only until it answers",
        'ERR_SSE_REDIS_UNAVAILABLE',
      );
    } finally {
      clearTimeout(timer);
    }
  }
  bridge.install();
  current = bridge;
  return {
    get state() {
      return bridge.isClosed ? 'closed' : transport.state;
    },
    whenSubscribed: (key: string) => bridge.whenSubscribed(key),
    flushed: () => bridge.flushed(),
    metrics: () => metricsOf(bridge),
    close: () => bridge.close(2000),
  };
}

function metricsOf(b: LogBridge | undefined): RedisMetrics {
  const c: BridgeCounters | undefined = b?.counters;
  const state: RedisMetrics['state'] = b === undefined ? 'off' : b.isClosed ? 'closed' : b.transport.state;
  return {
    state,
    messagesOut: c?.messagesOut ?? 0,
    messagesIn: c?.messagesIn ?? 0,
    publishErrors: c?.publishErrors ?? 0,
    outboxDepth: c?.outboxDepth ?? 0,
    outboxOverflows: c?.outboxOverflows ?? 0,
    localOnly: c?.localOnly ?? 0,
    reconnects: b?.transport.reconnects ?? 0,
    resumesFromLog: c?.resumesFromLog ?? 0,
    resumesFromRing: c?.resumesFromRing ?? 0,
    resumeGaps: c?.resumeGaps ?? 0,
    catchUps: c?.catchUps ?? 0,
    catchUpEvents: c?.catchUpEvents ?? 0,
    gapsSent: c?.gapsSent ?? 0,
    lag: {
      count: c?.lagCount ?? 0,
      sumMs: c?.lagSumMs ?? 0,
      buckets: kLagBuckets.map((le, i) => [le, c?.lagBuckets[i] ?? 0] as [number, number]),
    },
  };
}

/** The counters of this process's bridge (the last one connected), or zeros with state 'off'. */
export function getRedisMetrics(): RedisMetrics {
  return metricsOf(current);
}

const kStates = ['connecting', 'ready', 'reconnecting', 'closed', 'off'] as const;

/** getRedisMetrics() as Prometheus text lines (format 0.0.4), to append to metricsText(). */
export function redisMetricsText(): string {
  const m = getRedisMetrics();
  const p = new PromText();
  const one = p.one.bind(p);
  p.labelled('sse_redis_state', 'gauge', 'Bridge state (1 for the current one).', 'state', kStates.map((s): [string, number] => [s, m.state === s ? 1 : 0]));
  one('sse_redis_messages_out_total', 'counter', 'Broadcasts Redis accepted from this process.', m.messagesOut);
  one('sse_redis_messages_in_total', 'counter', 'Messages from Redis delivered to local members.', m.messagesIn);
  one('sse_redis_publish_errors_total', 'counter', 'Broadcasts Redis refused (delivered locally only).', m.publishErrors);
  one('sse_redis_outbox_depth', 'gauge', 'Broadcasts waiting for Redis.', m.outboxDepth);
  one('sse_redis_outbox_overflows_total', 'counter', 'Broadcasts delivered locally only: outbox full.', m.outboxOverflows);
  one('sse_redis_local_only_total', 'counter', 'Broadcasts delivered locally only: Redis not reached yet.', m.localOnly);
  one('sse_redis_reconnects_total', 'counter', 'Reconnections to Redis.', m.reconnects);
  one('sse_redis_resumes_from_log_total', 'counter', 'Resumes served from a Redis Stream.', m.resumesFromLog);
  one('sse_redis_resumes_from_ring_total', 'counter', 'Resumes answered by the local ring.', m.resumesFromRing);
  one('sse_redis_resume_gaps_total', 'counter', 'Resumes past what the Stream keeps (sse-gap sent).', m.resumeGaps);
  one('sse_redis_catch_ups_total', 'counter', 'Key catch-ups after a reconnection.', m.catchUps);
  one('sse_redis_catch_up_events_total', 'counter', 'Events read back from Streams after a reconnection.', m.catchUpEvents);
  one('sse_redis_gaps_sent_total', 'counter', 'sse-gap events sent to keys that lost messages.', m.gapsSent);
  p.histogram('sse_redis_lag_ms', 'Publish-to-delivery lag of messages from Redis.', m.lag.buckets, m.lag.sumMs, m.lag.count);
  return p.text();
}

// getMetrics() and metricsText() of the main entry include these once this
// module is loaded.
setBridgeMetrics({ object: () => ({ ...getRedisMetrics() }), text: redisMetricsText });
