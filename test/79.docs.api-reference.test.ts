// The API reference (TypeDoc over the TSDoc, `npm run docs`) builds without
// a warning (an unresolved {@link}, a missing export), links nothing outside
// the repository, and covers every public entry; the copy kept in docs/api
// (which the README links) has a page for every public symbol and none for a
// symbol that is gone: after changing the public API, run `npm run docs`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

test('typedoc builds the reference with no warning, no outside link, every entry', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-docs-'));
  try {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--treatWarningsAsErrors'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    const output = `${r.stdout}\n${r.stderr}`;
    expect({ status: r.status, warnings: output.split('\n').filter((l) => /warning|error/i.test(l)) }).toEqual({ status: 0, warnings: [] });
    const all = files(out).filter((f) => f.endsWith('.md'));
    const outside = all.filter((f) => /\]\(https?:/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(out, f));
    expect(outside).toEqual([]);
    const entries = fs.readdirSync(path.join(out, 'sse-native')).filter((n) => fs.statSync(path.join(out, 'sse-native', n)).isDirectory());
    for (const entry of ['client', 'react', 'express', 'fastify', 'hono']) expect(entries).toContain(entry);
    expect(fs.existsSync(path.join(out, 'sse-native', 'client', 'functions', 'fetchEventSource.md'))).toBe(true);
    const kept = path.join(ROOT, 'docs', 'api');
    const pages = (dir: string) => files(dir).map((f) => path.relative(dir, f)).sort();
    expect(pages(kept)).toEqual(pages(out));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain('](docs/api/README.md)');
  expect(fs.existsSync(path.join(ROOT, 'docs', 'api', 'README.md'))).toBe(true);
}, 300_000);
