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

interface Case {
  name: string;
  input: Uint8Array;
  expected: Call[];
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
  let cur: { name: string; input: Uint8Array[]; expected: Call[] } | undefined;
  const flush = () => {
    if (cur) cases.push({ name: cur.name, input: Buffer.concat(cur.input), expected: cur.expected });
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      flush();
      cur = { name: line.slice(3), input: [], expected: [] };
    } else if (line === '' || line.startsWith('#')) {
      continue; // a comment or a section title (########)
    } else if (line === '>' || line.startsWith('> ')) {
      cur!.input.push(unescape(line.slice(2)));
    } else {
      cur!.expected.push(parseExpected(line));
    }
  }
  flush();
  return cases;
}

function recorder(calls: Call[]) {
  return {
    onEvent: (e: { event?: string; id?: string; data: string }) => calls.push(['event', e.event ?? null, e.id ?? null, e.data]),
    onId: (id: string) => calls.push(['id', id]),
    onRetry: (ms: number) => calls.push(['retry', String(ms)]),
    onComment: (c: string) => calls.push(['comment', c]),
    onError: (e: ParseError) => {
      expect(e).toBeInstanceOf(ParseError);
      calls.push(['error', e.type, e.field ?? null, e.value ?? null, e.line ?? null]);
    },
  };
}

function run(chunks: (Uint8Array | string)[]): Call[] {
  const calls: Call[] = [];
  const p = createParser(recorder(calls));
  for (const c of chunks) p.feed(c);
  return calls;
}

const cases = loadVectors();

test('the vector file loads', () => {
  expect(cases.length).toBeGreaterThan(100);
});

describe.each(cases.map((c) => [c.name, c] as const))('vector: %s', (_name, c) => {
  test('fed whole, byte by byte, and split at every point', () => {
    expect(run([c.input])).toEqual(c.expected);
    expect(run(Array.from(c.input, (b) => Uint8Array.of(b)))).toEqual(c.expected);
    for (let cut = 0; cut <= c.input.length; cut++) {
      expect(run([c.input.subarray(0, cut), c.input.subarray(cut)])).toEqual(c.expected);
    }
  });

  test('fed as strings (valid UTF-8 inputs)', () => {
    let text: string;
    try {
      text = decode(c.input);
    } catch {
      return; // invalid bytes cannot be written as a string
    }
    expect(run([text])).toEqual(c.expected);
    expect(run(Array.from(text))).toEqual(c.expected); // one code point at a time
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
