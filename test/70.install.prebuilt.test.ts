// The packed tarball installs into an app on a machine without a compiler:
// the prebuilt binary loads, encodes, and serves a real SSE round trip. With
// no prebuild that fits, the install still succeeds with one warning and
// the package serves on its TypeScript backend (one warning at load); with
// SSE_NATIVE=js it does so silently.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bareBin, bareEnv, makeApp, npm, packRepo, tmpDir } from './helpers/pack';

jest.setTimeout(240_000);

let work: string;
let tarball: string;
let bin: string;

beforeAll(() => {
  work = tmpDir('sse-native-install-');
  tarball = packRepo(work);
  bin = bareBin(work);
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Runs `code` (CommonJS) with node in `app`, on the bare PATH; returns its stdout parsed as JSON. */
function runIn(app: string, code: string, env: NodeJS.ProcessEnv = {}): { status: number | null; out: string; err: string } {
  const file = path.join(app, 'probe.js');
  fs.writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { cwd: app, env: { ...bareEnv(bin), ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('the PATH used holds no compiler, make or python', () => {
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang++', 'make', 'python3']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { env: bareEnv(bin), encoding: 'utf8' });
    expect({ tool, found: r.status === 0 }).toEqual({ tool, found: false });
  }
});

test('npm install of the tarball without a compiler loads the prebuild and serves SSE', () => {
  const app = makeApp(work, 'app-prebuilt');
  const r = npm(['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], app, bareEnv(bin));
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  const pkg = path.join(app, 'node_modules', 'sse-native');
  // Nothing was compiled: no build/ directory, and the prebuild is what loads.
  expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);
  expect(fs.existsSync(path.join(pkg, 'prebuilds', 'linux-x64', 'sse-native.glibc.node'))).toBe(true);

  const probe = runIn(
    app,
    `
const http = require('node:http');
const sse = require('sse-native');
const loaded = require('node-gyp-build').resolve(require('node:path').dirname(require.resolve('sse-native/package.json')));
const encoded = sse.encodeEvent({ event: 'hello', id: '7', data: { a: 1 } }).toString();
const server = http.createServer((req, res) => {
  const stream = sse.createSSEStream(req, res);
  stream.send({ event: 'greeting', id: '1', data: 'from the prebuild' });
  stream.send({ data: [1, 2, 3] });
  setImmediate(() => stream.close());
});
server.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => {
      server.close();
      console.log(JSON.stringify({ loaded, encoded, status: res.statusCode, type: res.headers['content-type'], body }));
    });
  });
});
setTimeout(() => { console.error('timed out'); process.exit(2); }, 20000).unref();
`,
  );
  expect({ status: probe.status, err: probe.err }).toEqual({ status: 0, err: '' });
  const result = JSON.parse(probe.out);
  expect(result.loaded).toBe(path.join(fs.realpathSync(pkg), 'prebuilds', 'linux-x64', 'sse-native.glibc.node'));
  expect(result.encoded).toBe('event: hello\nid: 7\ndata: {"a":1}\n\n');
  expect(result.status).toBe(200);
  expect(result.type).toMatch(/^text\/event-stream/);
  expect(result.body).toContain('event: greeting\nid: 1\ndata: from the prebuild\n\n');
  expect(result.body).toContain('data: [1,2,3]\n\n');
});

test('with no prebuild that fits and no compiler, install succeeds with one warning; loading falls back to the TypeScript backend with one warning that says how to fix it', () => {
  // The same package without prebuilds/, as a platform we ship none for would see it.
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  expect(spawnSync('tar', ['xzf', tarball, '-C', unpacked]).status).toBe(0);
  fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  const bare = path.join(work, 'sse-native-noprebuild.tgz');
  expect(spawnSync('tar', ['czf', bare, '-C', unpacked, 'package']).status).toBe(0);

  const app = makeApp(work, 'app-noprebuild');
  const r = npm(['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', bare], app, bareEnv(bin));
  const output = r.stdout + r.stderr;
  expect({ status: r.status }).toEqual({ status: 0 });
  expect(output).toContain('the native backend is unavailable');
  expect(output.match(/sse-native: WARNING/g)).toHaveLength(1);

  // Loading falls back to the TypeScript backend, with one warning that says why and how to fix it, and serves.
  const probe = runIn(app, serveProbe);
  expect(probe.status).toBe(0);
  expect(JSON.parse(probe.out)).toEqual({ backend: 'js', sinkKind: 'response', body: 'id: 1\ndata: served\n\n' });
  expect(probe.err.match(/SSE_NATIVE_FALLBACK/g)).toHaveLength(1);
  expect(probe.err).toContain('using the TypeScript backend');
  expect(probe.err).toContain('no native binary for linux-x64');
  expect(probe.err).toContain('npm rebuild sse-native');
  expect(probe.err).toContain('pnpm approve-builds');
  expect(probe.err).toContain('SSE_NATIVE=js');
  expect(probe.err).not.toContain('build/Debug');
  // Installed under node_modules, it is not a bundle: no bundler advice.
  expect(probe.err).not.toContain('serverExternalPackages');

  // Chosen explicitly, nothing is printed.
  const quiet = runIn(app, serveProbe, { SSE_NATIVE: 'js' });
  expect({ status: quiet.status, err: quiet.err }).toEqual({ status: 0, err: '' });
  expect(JSON.parse(quiet.out).backend).toBe('js');

  // SSE_NATIVE=native makes the missing binary an error that names the fix.
  const strict = runIn(app, "try { require('sse-native'); console.log('loaded'); } catch (e) { console.log(e.message); }", { SSE_NATIVE: 'native' });
  expect(strict.status).toBe(0);
  expect(strict.out).toContain('no native binary for linux-x64');
  expect(strict.out).toContain('npm rebuild sse-native');
});

test('the installed package with SSE_NATIVE=js serves on the TypeScript backend, silently, and the ESM entry agrees', () => {
  const app = makeApp(work, 'app-js');
  const r = npm(['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], app, bareEnv(bin));
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  const probe = runIn(app, serveProbe, { SSE_NATIVE: 'js' });
  expect({ status: probe.status, err: probe.err }).toEqual({ status: 0, err: '' });
  expect(JSON.parse(probe.out)).toEqual({ backend: 'js', sinkKind: 'response', body: 'id: 1\ndata: served\n\n' });
  const native = runIn(app, serveProbe);
  expect({ status: native.status, err: native.err }).toEqual({ status: 0, err: '' });
  expect(JSON.parse(native.out)).toEqual({ backend: 'native', sinkKind: 'adopted', body: 'id: 1\ndata: served\n\n' });
  fs.writeFileSync(path.join(app, 'probe.mjs'), "import { backend, encodeEvent } from 'sse-native';\nconsole.log(backend, encodeEvent({ data: 'm' }).toString().trim());\n");
  const esm = spawnSync(process.execPath, ['probe.mjs'], { cwd: app, env: { ...bareEnv(bin), SSE_NATIVE: 'js' }, encoding: 'utf8', timeout: 30_000 });
  expect({ status: esm.status, out: esm.stdout.trim(), err: esm.stderr }).toEqual({ status: 0, out: 'js data: m', err: '' });
});

/** A server that opens one stream, sends one event and closes; prints { backend, sinkKind, body } as JSON. */
const serveProbe = `
const http = require('node:http');
const sse = require('sse-native');
let kind;
const server = http.createServer((req, res) => {
  const stream = sse.createSSEStream(req, res, { heartbeatMs: 0 });
  kind = stream.sinkKind;
  stream.send({ id: 1, data: 'served' });
  stream.close();
});
server.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => {
      server.close();
      console.log(JSON.stringify({ backend: sse.backend, sinkKind: kind, body }));
    });
  });
});
setTimeout(() => { console.error('timed out'); process.exit(2); }, 20000).unref();
`;
