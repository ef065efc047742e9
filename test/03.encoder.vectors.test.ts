// The shared encoder vectors (test/vectors/encoder.vectors) through the
// addon's encoder (encodeEvent, the core's NDJSON line) and its TypeScript
// twin (lib/common/encoder-ts.ts): byte for byte the same on every vector,
// the same refusals with the same TypeError. test/native/
// encoder_vectors_test.cc runs the same file through the core directly.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeEvent, type SSEMessage } from '../lib/native/encoder';
import { native } from '../lib/native/binding';
import { encodeFrame, encodeNdjson, frameText, validateFrame, FrameStatus, type FrameMessage } from '../lib/common/encoder-ts';
import { int, pick, rng } from './helpers/random';

interface Vector {
  name: string;
  msg: FrameMessage;
  ndjson?: string;
  expected: Buffer;
  refused?: 'event' | 'id';
}

function unescape(s: string): Buffer {
  const out: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== 0x5c) {
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
  return Buffer.from(out);
}

// Values are well-formed UTF-8 (the file says so): decode strictly.
const text = (raw: string): string =>
  raw === '""' ? '' : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(unescape(raw));

function load(): Vector[] {
  const out: Vector[] = [];
  const expected: Buffer[][] = [];
  for (const line of readFileSync(path.join(__dirname, 'vectors', 'encoder.vectors'), 'utf8').split('\n')) {
    if (line.startsWith('## ')) {
      out.push({ name: line.slice(3), msg: {}, expected: Buffer.alloc(0) });
      expected.push([]);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const v = out[out.length - 1];
    if (line === '=' || line.startsWith('= ')) {
      expected[expected.length - 1].push(unescape(line.slice(2)));
      continue;
    }
    if (line === '! invalid-event') v.refused = 'event';
    else if (line === '! invalid-id') v.refused = 'id';
    else {
      const sp = line.indexOf(' ');
      const key = line.slice(0, sp);
      const raw = line.slice(sp + 1);
      if (key === 'retry') v.msg.retry = Number(raw);
      else if (key === 'event' || key === 'data' || key === 'id' || key === 'comment') v.msg[key] = text(raw);
      else if (key === 'ndjson') v.ndjson = text(raw);
      else throw new Error(`unknown record: ${line}`);
    }
  }
  out.forEach((v, i) => (v.expected = Buffer.concat(expected[i])));
  return out;
}

const vectors = load();

test('the vector file loads', () => {
  expect(vectors.length).toBeGreaterThanOrEqual(40);
});

describe.each(vectors.map((v) => [v.name, v] as const))('vector: %s', (_name, v) => {
  test('the addon and the TypeScript twin give exactly the bytes', () => {
    if (v.ndjson !== undefined) {
      expect(Buffer.from(native.encodeNDJSON(v.ndjson))).toEqual(v.expected);
      expect(Buffer.from(encodeNdjson(v.ndjson))).toEqual(v.expected);
      return;
    }
    if (v.refused !== undefined) {
      const message =
        v.refused === 'event'
          ? '`event` must not contain CR or LF: pass a one-line event name (line breaks belong in `data`)'
          : '`id` must not contain CR, LF or NUL: pass a one-line id (e.g. a counter)';
      expect(() => encodeEvent(v.msg as SSEMessage)).toThrow(new TypeError(message));
      expect(() => encodeFrame(v.msg)).toThrow(new TypeError(message));
      expect(validateFrame(v.msg)).toBe(v.refused === 'event' ? FrameStatus.invalidEvent : FrameStatus.invalidId);
      return;
    }
    expect(Buffer.from(encodeEvent(v.msg as SSEMessage))).toEqual(v.expected);
    expect(Buffer.from(encodeFrame(v.msg))).toEqual(v.expected);
    expect(frameText(v.msg)).toBe(v.expected.toString('utf8'));
  });
});

describe('encoder-ts beyond the vectors', () => {
  test('random messages: the twin and the addon agree byte for byte', () => {
    const r = rng(4242);
    const pieces = ['a', ' ', 'é', '😀', '\n', '\r', '\r\n', '\0', ':', 'data: ', '\ud800', '', 'xyz'];
    const str = () => Array.from({ length: int(r, 8) }, () => pick(r, pieces)).join('');
    for (let k = 0; k < 2000; k++) {
      const msg: FrameMessage = {};
      if (r() < 0.5) msg.event = str();
      if (r() < 0.8) msg.data = str();
      if (r() < 0.4) msg.id = str();
      if (r() < 0.3) msg.comment = str();
      if (r() < 0.2) msg.retry = int(r, 1e9);
      let ours: Buffer | Error;
      let theirs: Buffer | Error;
      try {
        ours = Buffer.from(encodeFrame(msg));
      } catch (e) {
        ours = e as Error;
      }
      try {
        theirs = Buffer.from(encodeEvent(msg as SSEMessage)); // a bigint retry is the twin's own input
      } catch (e) {
        theirs = e as Error;
      }
      expect(ours).toEqual(theirs);
    }
  });

  test('lone surrogates become U+FFFD in both', () => {
    const msg = { event: 'e\udc00', data: 'a\ud800b' };
    expect(Buffer.from(encodeFrame(msg))).toEqual(Buffer.from(encodeEvent(msg)));
    expect(Buffer.from(encodeFrame(msg)).toString()).toBe('event: e\ufffd\ndata: a\ufffdb\n\n');
  });

  test('retry as a bigint past 2^53 is written exactly', () => {
    expect(Buffer.from(encodeFrame({ retry: 18446744073709551615n })).toString()).toBe('retry: 18446744073709551615\n\n');
  });
});
