// The TypeScript parser (lib/client/parser-ts.ts, the browser build's)
// against the shared vectors of the C++ parser: every case fed whole, one
// byte at a time, split at every point, and (when the input is valid UTF-8)
// as strings. Same callbacks, same order.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createParser } from '../lib/client/parser-ts';
import { ParseError } from '../lib/common/parser-api';

type Arg = string | null; // null: absent
type Call = [string, ...Arg[]];

interface Options {
  chunked: boolean; // `! chunks`: replayed only as given
  consume: boolean;
  comments: boolean;
  maxBufferSize: number | undefined;
}

interface Case {
  name: string;
  input: Uint8Array;
  chunks: Uint8Array[];
  expected: Call[];
  options: Options;
}

function unescape(s: string): Uint8Array {
  const out: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== 0x5c /* \ */ || i + 1 >= raw.length) {
      out.push(c);
      continue;
    }
    const e = String.fromCharCode(raw[++i]);
    if (e === 'n') out.push(0x0a);
    else if (e === 'r') out.push(0x0d);
    else if (e === 't') out.push(0x09);
    else if (e === '0') out.push(0x00);
    else if (e === '\\') out.push(0x5c);
    else if (e === 'x') {
      out.push(parseInt(raw.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else throw new Error(`bad escape \\${e} in ${s}`);
  }
  return Uint8Array.from(out);
}

const decode = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);

function field(s: string): Arg {
  if (s === '-') return null;
  if (s === '""') return '';
  return decode(unescape(s));
}

// Splits at the first n-1 spaces: the last field is the rest of the line.
function splitFields(line: string, n: number): string[] {
  const parts: string[] = [];
  let rest = line;
  for (let k = 0; k < n - 1; k++) {
    const sp = rest.indexOf(' ');
    if (sp < 0) throw new Error(`expected ${n} fields in "${line}"`);
    parts.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1);
  }
  parts.push(rest);
  return parts;
}

function parseExpected(line: string): Call {
  const kw = line.split(' ', 1)[0];
  switch (kw) {
    case 'event': {
      const [, type, id, data] = splitFields(line, 4);
      return ['event', field(type), field(id), field(data)];
    }
    case 'id':
    case 'comment':
      return [kw, field(splitFields(line, 2)[1])];
    case 'retry':
      return ['retry', String(Number(splitFields(line, 2)[1]))];
    case 'error': {
      const kind = line.split(' ')[1];
      if (kind === 'max-buffer-size-exceeded') return ['error', kind, null, null, null];
      if (kind === 'invalid-retry') {
        const [, , value, text] = splitFields(line, 4);
        return ['error', kind, null, field(value), field(text)];
      }
      const [, , name, value, text] = splitFields(line, 5);
      return ['error', kind, field(name), field(value), field(text)];
    }
    default:
      throw new Error(`unknown expected line: ${line}`);
  }
}

function loadVectors(): Case[] {
  const text = readFileSync(path.join(__dirname, 'vectors', 'parser.vectors'), 'utf8');
  const cases: Case[] = [];
  let cur: Omit<Case, 'input'> | undefined;
  const flush = () => {
    if (cur) cases.push({ ...cur, input: Buffer.concat(cur.chunks) });
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      flush();
      const options: Options = { chunked: false, consume: false, comments: true, maxBufferSize: undefined };
      cur = { name: line.slice(3), chunks: [], expected: [], options };
    } else if (line === '' || line.startsWith('#')) {
      continue; // a comment or a section title (########)
    } else if (line === '>' || line.startsWith('> ')) {
      cur!.chunks.push(unescape(line.slice(2)));
    } else if (line.startsWith('! ')) {
      const opt = line.slice(2);
      const o = cur!.options;
      if (opt === 'chunks') o.chunked = true;
      else if (opt === 'consume') o.consume = true;
      else if (opt === 'no-comments') o.comments = false;
      else if (opt.startsWith('max-buffer-size ')) o.maxBufferSize = Number(opt.slice(16));
      else throw new Error(`unknown option: ${line}`);
    } else {
      cur!.expected.push(parseExpected(line));
    }
  }
  flush();
  return cases;
}

function recorder(calls: Call[], comments = true) {
  return {
    onEvent: (e: { event?: string; id?: string; data: string }) => calls.push(['event', e.event ?? null, e.id ?? null, e.data]),
    onId: (id: string) => calls.push(['id', id]),
    onRetry: (ms: number) => calls.push(['retry', String(ms)]),
    onComment: comments ? (c: string) => calls.push(['comment', c]) : undefined,
    onError: (e: ParseError) => {
      expect(e).toBeInstanceOf(ParseError);
      calls.push(['error', e.type, e.field ?? null, e.value ?? null, e.line ?? null]);
    },
  };
}

const kDefaults: Options = { chunked: false, consume: false, comments: true, maxBufferSize: undefined };

// Once the parser terminated (max buffer size) the rest is not fed.
function run(chunks: (Uint8Array | string)[], opt: Options = kDefaults): Call[] {
  const calls: Call[] = [];
  const p = createParser({ ...recorder(calls, opt.comments), maxBufferSize: opt.maxBufferSize });
  for (const c of chunks) {
    p.feed(c);
    const last = calls[calls.length - 1];
    if (last !== undefined && last[0] === 'error' && last[1] === 'max-buffer-size-exceeded') break;
  }
  if (opt.consume) p.reset({ consume: true });
  return calls;
}

const isUnknown = (c: Call) => c[0] === 'error' && c[1] === 'unknown-field';

/**
 * A replay fed in pieces gives the whole feed's calls, except that the
 * unknown-field errors of lines cut by a feed boundary may be missing (see
 * "LINES THAT CANNOT MATTER" in the vector file).
 */
function expectSplitAgrees(split: Call[], whole: Call[]): void {
  expect(split.filter((c) => !isUnknown(c))).toEqual(whole.filter((c) => !isUnknown(c)));
  let at = 0;
  for (const c of split.filter(isUnknown)) {
    while (at < whole.length && JSON.stringify(whole[at]) !== JSON.stringify(c)) at++;
    expect(at).toBeLessThan(whole.length); // in the whole feed's order
    at++;
  }
}

const cases = loadVectors();

test('the vector file loads', () => {
  expect(cases.length).toBeGreaterThan(100);
});

describe.each(cases.map((c) => [c.name, c] as const))('vector: %s', (_name, c) => {
  const o = c.options;
  test('fed whole, byte by byte, and split at every point', () => {
    if (o.chunked) {
      expect(run(c.chunks, o)).toEqual(c.expected);
      return;
    }
    expect(run([c.input], o)).toEqual(c.expected);
    expectSplitAgrees(run(Array.from(c.input, (b) => Uint8Array.of(b)), o), c.expected);
    for (let cut = 0; cut <= c.input.length; cut++) {
      expectSplitAgrees(run([c.input.subarray(0, cut), c.input.subarray(cut)], o), c.expected);
    }
  });

  test('fed as strings (valid UTF-8 inputs)', () => {
    let chunks: string[];
    try {
      chunks = c.chunks.map(decode);
    } catch {
      return; // invalid bytes cannot be written as a string
    }
    if (o.chunked) {
      expect(run(chunks, o)).toEqual(c.expected);
      return;
    }
    const text = chunks.join('');
    expect(run([text], o)).toEqual(c.expected);
    expectSplitAgrees(run(Array.from(text), o), c.expected); // one code point at a time
  });
});

describe('parser-ts behaviour beyond the vectors', () => {
  test('lone surrogates in a string become U+FFFD', () => {
    expect(run(['data: a\ud800b\udc00\n\n'])).toEqual([['event', null, null, 'a\ufffdb\ufffd']]);
  });

  test('a split character then a string', () => {
    const bytes = Buffer.from('data: é', 'utf8');
    expect(run([bytes.subarray(0, bytes.length - 1), '\u00a9\n\n'])).toEqual([['event', null, null, '\ufffd\u00a9']]);
    const euro = Buffer.from('€', 'utf8');
    // Two bytes of a three-byte character, then a string: U+FFFD, then the string.
    expect(run(['data: ', euro.subarray(0, 2), 'x\n\n'])).toEqual([['event', null, null, '\ufffdx']]);
  });

  test('maxBufferSize: onError, then feed throws until reset()', () => {
    const errors: string[] = [];
    const p = createParser({ maxBufferSize: 16, onError: (e) => errors.push(e.type) });
    p.feed('data: ' + 'x'.repeat(64));
    expect(errors).toEqual(['max-buffer-size-exceeded']);
    expect(() => p.feed('\n\n')).toThrow(/terminated/);
    p.reset();
    const got: string[] = [];
    const q = createParser({ maxBufferSize: 16, onEvent: (e) => got.push(e.data) });
    q.feed('data: ok\n\n');
    expect(got).toEqual(['ok']);
  });

  test('reset({ consume: true }) parses the pending line', () => {
    const calls: Call[] = [];
    const p = createParser(recorder(calls));
    p.feed('data: a\n\nretry: 5');
    p.reset({ consume: true });
    expect(calls).toEqual([['event', null, null, 'a'], ['retry', '5']]);
  });

  test('bad arguments are TypeErrors', () => {
    expect(() => createParser((() => {}) as never)).toThrow(TypeError);
    expect(() => createParser({ onEvent: 1 as never })).toThrow(/onEvent/);
    expect(() => createParser({ maxBufferSize: 0 })).toThrow(/maxBufferSize/);
    expect(() => createParser({}).feed(42 as never)).toThrow(TypeError);
  });
});
