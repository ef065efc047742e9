// The processes a benchmark script starts. Each runs under bash with a
// raised fd limit and `exec` (so the pid is the program's own), is tracked
// in `children`, and is stopped by its pid; every one still running is
// killed when the script exits.
import { spawn } from 'node:child_process';

export const children = new Set();

process.on('exit', () => {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {}
  }
});

const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** Starts `cmd args` in `cwd`, after `prefix` (e.g. `taskset -c 0 `); `child.exited` resolves with { code, sig }. */
export function startChild(cwd, cmd, args, prefix = '') {
  const line = `ulimit -n 20000 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${prefix}${[cmd, ...args].map(quote).join(' ')}`;
  const child = spawn('bash', ['-c', line], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.exited = new Promise((r) => child.once('exit', (code, sig) => (children.delete(child), r({ code, sig }))));
  return child;
}

/** SIGTERM, then SIGKILL after `ms`; resolves once it exited. */
export async function stop(child, ms = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {}
  const t = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }, ms);
  await child.exited;
  clearTimeout(t);
}

/** Calls onLine for each line of a child's output. */
export function lines(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}
