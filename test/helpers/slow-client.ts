// Drives test/helpers/slow_client.py: a client with a 4 KiB receive buffer
// that stops reading after the response head until resume() is called.
// (Node cannot set SO_RCVBUF before connecting, Python can.)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ResponseReader, within } from './server';

const SCRIPT = path.join(__dirname, 'slow_client.py');
const running = new Set<ChildProcessWithoutNullStreams>();

export interface SlowClientResult {
  reader: ResponseReader;
  /** The server closed the connection (FIN). */
  eof: boolean;
  reset: boolean;
  timeout: boolean;
}

export interface SlowClient {
  /** Resolves once the client has read the response head and stopped reading. */
  ready: Promise<void>;
  /** Lets the client read everything until the response ends; resolves with what it received. */
  resume(): Promise<SlowClientResult>;
  /** Kills the client process: its socket, with unread bytes, is reset by the kernel. */
  kill(): Promise<void>;
}

export function slowClient(port: number, urlPath: string, rcvbuf = 4096): SlowClient {
  const child = spawn('python3', [SCRIPT, String(port), urlPath, String(rcvbuf)], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.on('close', () => {
      running.delete(child);
      resolve();
    }),
  );
  child.on('error', () => undefined); // reported through `lines`
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const rl = readline.createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    lines.push(line);
    waiters.splice(0).forEach((w) => w());
  });
  const line = (i: number, what: string) =>
    within(
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if (lines.length > i) resolve(lines[i]);
          else if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error(`slow_client.py exited (${child.exitCode ?? child.signalCode}) before ${what}: ${stderr}`));
          } else waiters.push(check);
        };
        check();
        void exited.then(() => waiters.splice(0).forEach((w) => w()));
      }),
      `slow_client.py: ${what}`,
      20_000,
    );
  const ready = line(0, 'the response head').then((l) => {
    if (!JSON.parse(l).ready) throw new Error(`slow_client.py: unexpected ${l}`);
  });
  // A test that fails before awaiting these must not also crash the worker.
  ready.catch(() => undefined);
  return {
    ready,
    resume() {
      const p = readAll();
      p.catch(() => undefined);
      return p;
    },
    kill() {
      child.kill('SIGKILL');
      return within(exited, 'slow_client.py to exit');
    },
  };

  async function readAll(): Promise<SlowClientResult> {
    child.stdin.end('go\n');
    const out = JSON.parse(await line(1, 'the end of the response')) as {
      raw: string;
      eof: boolean;
      reset: boolean;
      timeout: boolean;
    };
    const reader = new ResponseReader();
    reader.feed(Buffer.from(out.raw, 'base64'));
    await within(exited, 'slow_client.py to exit');
    return { reader, eof: out.eof, reset: out.reset, timeout: out.timeout };
  }
}

/** Kills every slow client still running (afterEach). */
export async function killSlowClients(): Promise<void> {
  const all = [...running];
  for (const c of all) c.kill('SIGKILL');
  await within(
    Promise.all(all.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('close', r))))),
    'slow clients to exit',
  );
}
