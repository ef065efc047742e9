// BridgeTransport over Redis with ioredis: one command connection (the app's
// own client when given) and one subscriber connection. A key's log is a
// Redis Stream and its channel a pub/sub channel of the same name,
// `<prefix>{<key>}` (the hash tag keeps both in one Cluster slot). Sharded
// pub/sub (SPUBLISH/SSUBSCRIBE, Redis >= 7.0) is used when the server has it.
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import type { ReplaySettings } from '../hub/bridge';
import type { BridgeTransport, LogEntry, TransportHandlers } from './transport';

// XADD and PUBLISH in one script: Redis runs scripts one at a time, so the
// order of the ids in the Stream is the order subscribers see. Trimming is
// exact (MAXLEN =, then MINID for the age limit, both by the server's clock)
// so a resume past the kept events gets sse-gap as it would from the ring.
//
// A command in flight when the connection drops is sent again after the
// reconnection (it may have run already): each publisher numbers its
// appends, and the script skips one whose number it has seen for that key.
const kAppendLua = `
local last = redis.call('HGET', KEYS[3], ARGV[5])
if last and tonumber(last) >= tonumber(ARGV[6]) then return false end
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
redis.call('PEXPIRE', KEYS[3], 86400000)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'm', ARGV[1])
local age = tonumber(ARGV[3])
if age > 0 then
  local t = redis.call('TIME')
  local minid = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - age
  if minid > 0 then redis.call('XTRIM', KEYS[1], 'MINID', minid) end
end
redis.call(ARGV[4], KEYS[2], id .. '\\n' .. ARGV[1])
return id
`;

/** How connectRedis reaches Redis: a URL (connections of our own) or the app's client (we duplicate it to subscribe). */
export interface RedisTransportOptions {
  url?: string;
  client?: RedisClient;
  prefix: string;
  /** Sharded pub/sub: undefined picks it when the server is 7.0 or newer. */
  sharded?: boolean;
  /** Extra ioredis options for the connections we open. */
  redisOptions?: RedisOptions;
}

type State = BridgeTransport['state'];

/** ioredis, loaded only when a bridge is made: it is an optional peer dependency. */
function loadIORedis(): typeof import('ioredis') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('ioredis') as typeof import('ioredis');
  } catch (err) {
    throw new Error(
      `sse-native/redis needs the ioredis package (an optional peer dependency): run \`npm install ioredis\` (${String(err)})`,
    );
  }
}

export class RedisTransport implements BridgeTransport {
  state: State = 'connecting';
  reconnects = 0;
  private cmd!: RedisClient;
  private sub!: RedisClient;
  private ownCmd = false;
  private sharded = false;
  private handlers!: TransportHandlers;
  private readonly channelToKey = new Map<string, string>();
  private detected: Promise<void> | undefined;
  private everUp = false;
  private subDown = false;

  constructor(private readonly opts: RedisTransportOptions) {}

  private name(key: string): string {
    return `${this.opts.prefix}{${key}}`;
  }

  async start(handlers: TransportHandlers, keepTrying: boolean): Promise<void> {
    this.handlers = handlers;
    const common: RedisOptions = {
      // Commands wait for the connection instead of failing after N retries:
      // the bridge bounds how many may wait (its outbox).
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      lazyConnect: true,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      ...this.opts.redisOptions,
    };
    if (this.opts.client !== undefined) {
      this.cmd = this.opts.client;
      this.sub = this.cmd.duplicate({ ...common });
    } else {
      const IORedis = loadIORedis();
      // Publishes made in one loop turn leave in one write (order kept).
      this.cmd = new IORedis.Redis(this.opts.url ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true, ...common });
      this.sub = new IORedis.Redis(this.opts.url ?? 'redis://127.0.0.1:6379', common);
      this.ownCmd = true;
    }
    // Errors are reported through state and metrics; without a listener
    // ioredis would print each failed reconnect.
    this.cmd.on('error', () => {});
    this.sub.on('error', () => {});
    this.sub.on('message', (ch: string, text: string) => this.onMessage(ch, text));
    this.sub.on('smessage', (ch: string, text: string) => this.onMessage(ch, text));
    this.sub.on('close', () => {
      if (this.state === 'closed' || !this.everUp) return;
      this.state = 'reconnecting';
      if (!this.subDown) {
        this.subDown = true;
        this.handlers.down();
      }
    });
    this.sub.on('ready', () => {
      if (this.state === 'closed') return;
      if (!this.everUp) return; // the first ready is handled by start()
      this.reconnects++;
      // ioredis emits 'ready' on the next tick after it sent the
      // resubscriptions: a PING sent now is answered after them, so when it
      // is, the channels are live again and the bridge may read the logs.
      void this.sub.ping().then(() => {
        if (this.state === 'closed') return;
        this.state = 'ready';
        this.subDown = false;
        this.handlers.up();
      }, () => {});
    });

    let firstReady: (() => void) | undefined;
    this.detected = new Promise<void>((resolve) => (firstReady = resolve));
    const connect = async (c: RedisClient) => {
      if (c.status === 'ready') return;
      if (c.status === 'wait') return c.connect();
      await new Promise<void>((resolve, reject) => {
        c.once('ready', resolve);
        c.once('end', () => reject(new Error('connection ended')));
      });
    };
    const up = async () => {
      await connect(this.cmd);
      await connect(this.sub);
      if (this.opts.sharded !== undefined) this.sharded = this.opts.sharded;
      else {
        const info = await this.cmd.info('server');
        const m = /redis_version:(\d+)/.exec(info);
        this.sharded = m !== null && Number(m[1]) >= 7;
      }
      this.everUp = true;
      if (this.state === 'connecting') this.state = 'ready';
      firstReady!();
    };
    if (!keepTrying) {
      await up();
      return;
    }
    // Local-only until Redis answers: ioredis keeps retrying in the background.
    up().catch(() => {
      const retry = () => {
        if (this.state === 'closed') return;
        up().catch(() => setTimeout(retry, 500).unref());
      };
      setTimeout(retry, 500).unref();
    });
  }

  /** Whether the first connection has been made (before it, publishes are local-only). */
  get connectedOnce(): boolean {
    return this.everUp;
  }

  private onMessage(channel: string, text: string): void {
    const key = this.channelToKey.get(channel);
    if (key !== undefined) this.handlers.message(key, text);
  }

  publish(key: string, payload: string): Promise<unknown> {
    // The bridge publishes only after the first connection (connectedOnce),
    // when `sharded` is known: no await on the hot path.
    const ch = this.name(key);
    return this.sharded ? this.cmd.spublish(ch, '\n' + payload) : this.cmd.publish(ch, '\n' + payload);
  }

  async append(key: string, payload: string, s: ReplaySettings, publisher: string, seq: number): Promise<string> {
    const n = this.name(key);
    // EVAL, not EVALSHA: after a restart every EVALSHA in flight would fail
    // with NOSCRIPT and resending them could reorder them.
    const id = await this.cmd.eval(
      kAppendLua, 3, n, n, `${n}:pub`,
      payload, s.maxEvents, s.maxAgeMs, this.sharded ? 'SPUBLISH' : 'PUBLISH', publisher, seq,
    );
    return id === null ? '' : String(id);
  }

  async subscribe(key: string): Promise<void> {
    await this.detected;
    const ch = this.name(key);
    this.channelToKey.set(ch, key);
    if (this.sharded) await this.sub.ssubscribe(ch);
    else await this.sub.subscribe(ch);
  }

  async unsubscribe(key: string): Promise<void> {
    const ch = this.name(key);
    this.channelToKey.delete(ch);
    if (!this.everUp) return;
    if (this.sharded) await this.sub.sunsubscribe(ch);
    else await this.sub.unsubscribe(ch);
  }

  async range(key: string, fromId: string): Promise<LogEntry[]> {
    await this.detected;
    const rows = await this.cmd.xrange(this.name(key), fromId, '+');
    return rows.map(([id, fields]) => ({ id, payload: fields[1] ?? '' }));
  }

  async sync(): Promise<void> {
    // Redis answers a PING on the subscriber connection after every message
    // it queued there before executing it.
    await this.sub.ping();
  }

  async last(key: string): Promise<string | undefined> {
    await this.detected;
    const rows = await this.cmd.xrevrange(this.name(key), '+', '-', 'COUNT', 1);
    return rows.length > 0 ? rows[0][0] : undefined;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sub.disconnect();
    if (this.ownCmd) this.cmd.disconnect();
  }
}
