// A real redis-server for the Redis bridge suites: started on a free port in
// a temporary directory (AOF on, as production runs it), stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { within } from './server';

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** One redis-server this suite started. */
export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server (AOF on, no RDB snapshots) and waits until it accepts connections. */
  static async start(port?: number): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-redis-'));
    const s = new RedisServer(port ?? (await freePort()), dir);
    await s.launch();
    return s;
  }

  private async launch(): Promise<void> {
    const p = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes',
        '--daemonize', 'no', '--loglevel', 'warning', '--logfile', path.join(this.dir, 'redis.log')],
      { stdio: 'ignore' },
    );
    this.proc = p;
    const started = Date.now();
    for (;;) {
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode}; see ${this.dir}/redis.log`);
      if (await answers(this.port)) return;
      if (Date.now() - started > 10_000) throw new Error('redis-server did not answer PING within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM (Redis writes its AOF and exits), then waits for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(p.pid!, 'SIGTERM');
    await within(exited, 'redis-server to exit');
  }

  /** Stops and starts again on the same port and directory (data comes back from the AOF). */
  async restart(pauseMs = 0): Promise<void> {
    await this.stop();
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    await this.launch();
  }

  /** Stops and removes the directory. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when a Redis on the port answers PING with +PONG. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

const NODE_SCRIPT = path.join(__dirname, 'redis-node.js');
const openNodes = new Set<NodeProc>();

/** Replay settings per key, as configureKey takes them. */
export type KeyReplay = Record<string, { maxEvents?: number; maxAgeMs?: number }>;

/** A child process running redis-node.js against dist/: one "instance" of the app. */
export class NodeProc {
  private rid = 0;
  private readonly waiting = new Map<number, (m: Record<string, unknown>) => void>();
  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
  ) {
    proc.on('message', (m: Record<string, unknown>) => {
      const f = this.waiting.get(m.rid as number);
      if (f) {
        this.waiting.delete(m.rid as number);
        f(m);
      }
    });
  }

  /** Starts one instance bridged to `url` and waits until it listens. */
  static async start(url: string, keys: KeyReplay = {}, prefix = 'sse:'): Promise<NodeProc> {
    const proc = spawn(process.execPath, [NODE_SCRIPT], {
      env: { ...process.env, REDIS_URL: url, SSE_KEYS: JSON.stringify(keys), SSE_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const first = await within(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        proc.once('message', resolve);
        proc.once('exit', (code) => reject(new Error(`instance exited with ${code} before listening`)));
      }),
      'an instance to listen',
    );
    if (first.op !== 'listening') throw new Error(`instance failed: ${String(first.error)}`);
    const n = new NodeProc(proc, first.port as number);
    openNodes.add(n);
    return n;
  }

  /** Sends one request and waits for its reply. */
  request(msg: Record<string, unknown>, ms = 60_000): Promise<Record<string, unknown>> {
    const rid = ++this.rid;
    const p = new Promise<Record<string, unknown>>((resolve) => this.waiting.set(rid, resolve));
    this.proc.send({ ...msg, rid });
    return within(p, `the instance to answer ${String(msg.op)}`, ms);
  }

  /** Broadcasts `${prefix}${start..start+count-1}` on `key` from this instance (intervalMs 0: in one tick). */
  broadcast(key: string, count: number, opts: { prefix?: string; intervalMs?: number; start?: number; event?: string } = {}) {
    return this.request({ op: 'broadcast', key, count, ...opts });
  }

  async metrics(): Promise<{ redis: Record<string, unknown> & { lag: { count: number } }; hub: Record<string, unknown>; state: string }> {
    return (await this.request({ op: 'metrics' })) as never;
  }

  /** Asks the instance to close its bridge and exit; kills it by pid if it does not. */
  async stop(): Promise<void> {
    openNodes.delete(this);
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    try {
      await this.request({ op: 'close' }, 5000);
      await within(exited, 'the instance to exit', 5000);
    } catch {
      process.kill(this.proc.pid!, 'SIGKILL');
      await exited;
    }
  }
}

/** Stops every instance still running (afterEach/afterAll). */
export async function stopNodes(): Promise<void> {
  await Promise.all([...openNodes].map((n) => n.stop()));
}
