// Helpers for the hub suites (test/5N.hub.*): servers whose streams join keys
// at creation, keys no other test shares, send-function targets that are
// unregistered after each test, clients bound to another loopback address,
// and a Prometheus text parser. The hub lives in the addon, which a Jest
// worker loads once for every file it runs: so every test uses fresh keys,
// and after each test the keys it made must have no member left.
import { once } from 'node:events';
import type * as http from 'node:http';
import * as net from 'node:net';
import {
  createSSEStream,
  getConnectionCount,
  getConnectionKeys,
  registerConnection,
  setLimits,
  unregisterConnection,
  type SSEMessage,
  type SSEStream,
  type SSEStreamOptions,
} from '../../lib/index';
import { killSlowClients } from './slow-client';
import {
  Queue,
  SSEClient,
  eventually,
  requestBytes,
  startHttp,
  useTestEnv,
  within,
  type Opened,
  type RequestSpec,
  type TestServer,
} from './server';

/** The stream options the hub suites use (`key`, `resume` and the rest). */
export type HubStreamOptions = SSEStreamOptions;

export interface HubServer extends TestServer {
  /** One entry per request, in arrival order, pushed right after createSSEStream returned. */
  opened: Queue<Opened>;
}

/**
 * A node:http server whose handler calls createSSEStream(req, res, options)
 * (options may depend on the request) and then, in the same turn,
 * `onStream` (e.g. registerConnection, or a broadcast racing the replay).
 */
export async function startHub(
  options: HubStreamOptions | ((req: http.IncomingMessage) => HubStreamOptions),
  onStream?: (o: Opened) => void,
): Promise<HubServer> {
  const opened = new Queue<Opened>();
  const t = await startHttp((req, res) => {
    const o = typeof options === 'function' ? options(req) : options;
    const stream = createSSEStream(req, res, o);
    const entry = { stream, req, res };
    onStream?.(entry);
    opened.push(entry);
  });
  return { ...t, opened };
}

let seq = 0;
const madeKeys = new Set<string>();

/** A key no other test, file or worker uses. */
export function newKey(tag: string): string {
  const key = `${tag}:${process.pid}.${++seq}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  madeKeys.add(key);
  return key;
}

export interface FnTarget {
  fn: (msg: SSEMessage) => unknown;
  got: SSEMessage[];
}

const fnTargets: [string, FnTarget['fn']][] = [];

/** A send-function target recording what it receives, registered in `keys` (unregistered after the test). */
export function fnTarget(...keys: string[]): FnTarget {
  const got: SSEMessage[] = [];
  const fn = (msg: SSEMessage) => {
    got.push(msg);
  };
  for (const key of keys) {
    fnTargets.push([key, fn]);
    expectRegistered(registerConnection(key, fn), key);
  }
  return { fn, got };
}

function expectRegistered(ok: boolean, key: string): void {
  if (ok !== true) throw new Error(`registerConnection(${JSON.stringify(key)}, fn) returned ${String(ok)}`);
}

/** Resolves once `stream` has closed (at once if it already has). */
export async function closedStream(stream: SSEStream, what = "the stream's 'close'"): Promise<void> {
  if (!stream.closed) await within(once(stream, 'close'), what);
}

/** Connects to 127.0.0.1:port from `localAddress` (another loopback address) and sends the request. */
export async function connectFrom(port: number, localAddress: string, spec: RequestSpec = {}): Promise<SSEClient> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  const client = new SSEClient(socket);
  await within(once(socket, 'connect'), `a client from ${localAddress} to connect`);
  socket.write(requestBytes(port, spec));
  return client;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const timers = new Set<NodeJS.Timeout>();

/** setInterval, cleared after the test even when it fails. */
export function every(ms: number, fn: () => void): { stop(): void } {
  const t = setInterval(fn, ms);
  timers.add(t);
  return {
    stop() {
      clearInterval(t);
      timers.delete(t);
    },
  };
}

/**
 * useTestEnv plus the hub's own cleanup: `first` runs, slow clients are
 * killed, timers stopped, limits reset (setLimits({})) and send-function
 * targets unregistered before every stream is closed; then no key this file
 * made may keep a member and no connection may be left in the hub.
 */
export function useHubEnv(first?: () => Promise<void>): void {
  useTestEnv(async () => {
    for (const t of timers) clearInterval(t);
    timers.clear();
    try {
      await first?.();
      await killSlowClients();
    } finally {
      setLimits({});
      for (const [key, fn] of fnTargets.splice(0)) unregisterConnection(key, fn);
    }
  });
  afterEach(async () => {
    const stale = () => getConnectionKeys().filter((k) => madeKeys.has(k));
    await eventually(
      () => stale().length === 0 && getConnectionCount() === 0,
      `the hub to forget every member (keys left: ${JSON.stringify(stale())}, connections: ${getConnectionCount()})`,
    );
    for (const k of madeKeys) expect([k, getConnectionCount(k)]).toEqual([k, 0]);
    madeKeys.clear();
  });
}

// --- Prometheus text exposition format (version 0.0.4) ----------------------

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  types: Map<string, string>;
  helps: Map<string, string>;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses the text format strictly: `# HELP name text`, `# TYPE name kind`
 * (once per family, before its samples), samples `name{l="v",...} value
 * [timestamp]` with label values escaped (\\, \", \n), families contiguous,
 * no series twice, a final newline. Throws naming the bad line.
 */
export function parsePrometheus(text: string): PromText {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  const samples: PromSample[] = [];
  const seenSeries = new Set<string>();
  const finishedFamilies = new Set<string>();
  let currentFamily: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  const enter = (family: string, line: string) => {
    if (family === currentFamily) return;
    if (finishedFamilies.has(family)) throw new Error(`family ${family} is not contiguous at ${JSON.stringify(line)}`);
    if (currentFamily !== undefined) finishedFamilies.add(currentFamily);
    currentFamily = family;
  };
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, what, name, rest] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
      enter(name, line);
      if (what === 'HELP') {
        if (helps.has(name)) throw new Error(`HELP twice for ${name}`);
        helps.set(name, rest);
      } else {
        if (types.has(name)) throw new Error(`TYPE twice for ${name}`);
        if (samples.some((s) => familyOf(s.name, types) === name)) throw new Error(`TYPE after samples for ${name}`);
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) throw new Error(`bad TYPE in ${JSON.stringify(line)}`);
        types.set(name, rest);
      }
      continue;
    }
    const sample = parseSample(line);
    const family = familyOf(sample.name, types);
    if (!types.has(family)) throw new Error(`sample before (or without) its # TYPE: ${JSON.stringify(line)}`);
    enter(family, line);
    const series = `${sample.name}{${Object.entries(sample.labels)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (seenSeries.has(series)) throw new Error(`series twice: ${series}`);
    seenSeries.add(series);
    samples.push(sample);
  }
  return { types, helps, samples };
}

function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count', '_total']) {
    if (name.endsWith(suffix) && types.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  }
  return name;
}

function parseSample(line: string): PromSample {
  const bad = (why: string) => new Error(`bad sample line (${why}): ${JSON.stringify(line)}`);
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const name = line.slice(0, i);
  if (!METRIC_NAME.test(name)) throw bad('metric name');
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      let j = i;
      while (j < line.length && line[j] !== '=') j++;
      const label = line.slice(i, j);
      if (!LABEL_NAME.test(label)) throw bad(`label name ${JSON.stringify(label)}`);
      if (line[j + 1] !== '"') throw bad('label value must be quoted');
      let value = '';
      let k = j + 2;
      for (; k < line.length && line[k] !== '"'; k++) {
        if (line[k] === '\\') {
          const next = line[++k];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw bad(`escape \\${next}`);
        } else value += line[k];
      }
      if (line[k] !== '"') throw bad('unterminated label value');
      if (label in labels) throw bad(`label ${label} twice`);
      labels[label] = value;
      i = k + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw bad('expected , or }');
    }
  }
  if (line[i] !== ' ') throw bad('expected a space before the value');
  const parts = line.slice(i + 1).split(' ');
  if (parts.length < 1 || parts.length > 2) throw bad('value [timestamp]');
  const [v, ts] = parts;
  let value: number;
  if (v === 'NaN') value = NaN;
  else if (v === '+Inf') value = Infinity;
  else if (v === '-Inf') value = -Infinity;
  else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) value = Number(v);
  else throw bad(`value ${JSON.stringify(v)}`);
  if (ts !== undefined && !/^-?\d+$/.test(ts)) throw bad('timestamp');
  return { name, labels, value };
}
