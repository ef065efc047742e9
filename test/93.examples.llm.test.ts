// The LLM examples, started for real on 127.0.0.1:0: examples/openai-compatible
// read to the end by the official `openai` npm client (streaming and not),
// and byte-checked with a raw client ([DONE] last, OpenAI's chunk shape);
// examples/infer's named events in order, and its forward() of the first
// example as an upstream; a client leaving stops the fake model; both Node
// client scripts run as child processes; the React chat page in Chromium.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import OpenAI from 'openai';
import type { Browser } from 'playwright-core';
import { haveChromium, launchChromium } from './browser/chromium';
import { Queue, connect, listen, useTestEnv, within } from './helpers/server';

// The examples import the package by name, as users do; here it is lib/.
jest.mock('sse-native', () => jest.requireActual('../lib/index'), { virtual: true });
jest.mock('sse-native/client', () => jest.requireActual('../lib/node-client'), { virtual: true });

/* eslint-disable @typescript-eslint/no-var-requires */
const openaiExample = require('../examples/openai-compatible/server');
const inferExample = require('../examples/infer/server');
const { answerTokens } = require('../examples/shared/fake-model');
/* eslint-enable @typescript-eslint/no-var-requires */

const ROOT = path.resolve(__dirname, '..');
const children: import('node:child_process').ChildProcess[] = [];
useTestEnv(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid);
});

interface Result {
  reason: string;
  tokens: number;
  stats: { finished?: boolean; stopped?: string };
}

async function startOpenAI(pace = { tokenMs: 0, firstTokenMs: 0 }) {
  const results = new Queue<Result>();
  const srv = await listen(openaiExample.createServer({ ...pace, onResult: (r: Result) => results.push(r) }) as http.Server);
  return { port: srv.port, base: `http://127.0.0.1:${srv.port}/v1`, results };
}

async function startInfer(upstream?: string) {
  const results = new Queue<Result>();
  const srv = await listen(inferExample.createServer({ tokenMs: 0, firstTokenMs: 0, upstream, onResult: (r: Result) => results.push(r) }) as http.Server);
  return { port: srv.port, results };
}

const post = (body: unknown) => ({ method: 'POST', path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('examples/openai-compatible', () => {
  test('the openai client reads the stream to the end: every chunk in shape, the whole answer, usage', async () => {
    const srv = await startOpenAI();
    const client = new OpenAI({ apiKey: 'test', baseURL: srv.base, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'fake-gpt',
      messages: [{ role: 'user', content: 'Does the openai client read this?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const expected = answerTokens('Does the openai client read this?');
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'fake-gpt' && Number.isInteger(c.created))).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const content = chunks.slice(1, 1 + expected.length).map((c) => c.choices[0].delta.content);
    expect(content).toEqual(expected);
    const finish = chunks[1 + expected.length];
    expect(finish.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    const usage = chunks[2 + expected.length];
    expect(usage.choices).toEqual([]);
    expect(usage.usage!.completion_tokens).toBe(expected.length);
    expect(chunks).toHaveLength(expected.length + 3);
    expect((await srv.results.next()).reason).toBe('end');
  });

  test('on the wire: data-only events, [DONE] last, then the response ends; max_tokens gives finish_reason length', async () => {
    const srv = await startOpenAI();
    const c = await connect(srv.port, post({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 4 }));
    await c.waitForEnd();
    expect(c.head!.statusCode).toBe(200);
    expect(c.reader.header('content-type')).toBe('text/event-stream; charset=utf-8');
    const evs = c.events;
    expect(evs.every((e) => e.event === undefined && e.id === undefined)).toBe(true);
    expect(evs[evs.length - 1].data).toBe('[DONE]');
    expect(evs).toHaveLength(1 + 4 + 1 + 1);
    expect(JSON.parse(evs[5].data).choices[0].finish_reason).toBe('length');
    expect(c.reader.bodyText.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  test('without stream: one chat.completion the openai client parses; bad requests are 400s in the API error shape', async () => {
    const srv = await startOpenAI();
    const client = new OpenAI({ apiKey: 'test', baseURL: srv.base, maxRetries: 0 });
    const done = await client.chat.completions.create({ model: 'fake-gpt', messages: [{ role: 'user', content: 'once' }] });
    expect(done.object).toBe('chat.completion');
    expect(done.choices[0].message.content).toBe(answerTokens('once').join(''));
    await expect(client.chat.completions.create({ model: 'fake-gpt', messages: [], stream: true })).rejects.toMatchObject({
      status: 400,
      error: { type: 'invalid_request_error' },
    });
  });

  test('the client leaving mid-answer stops the model (a slow one: a token every 20 ms)', async () => {
    const srv = await startOpenAI({ tokenMs: 20, firstTokenMs: 0 });
    const c = await connect(srv.port, post({ model: 'm', messages: [{ role: 'user', content: 'long' }], stream: true }));
    await c.waitForEvents(4);
    c.destroy();
    const r = await srv.results.next('the stream to end');
    expect(r.reason).toBe('client-left');
    expect(r.stats.stopped).toBe('aborted');
    expect(r.tokens).toBeLessThan(answerTokens('long').length);
  });
});

describe('examples/infer', () => {
  test('started, progress (loading, prefill), token events with ids, metrics, then [DONE] last', async () => {
    const srv = await startInfer();
    const c = await connect(srv.port, { method: 'POST', path: '/v1/infer', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'rbee?', max_tokens: 12, stream: true }) });
    await c.waitForEnd();
    const evs = c.events;
    expect(evs[0].event).toBe('started');
    expect(JSON.parse(evs[0].data)).toMatchObject({ model: 'fake-llama-8b', max_tokens: 12 });
    expect(evs.slice(1, 7).map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      ['progress', { stage: 'loading_model', percent: 25 }],
      ['progress', { stage: 'loading_model', percent: 50 }],
      ['progress', { stage: 'loading_model', percent: 75 }],
      ['progress', { stage: 'loading_model', percent: 100 }],
      ['progress', { stage: 'prefill', percent: 50 }],
      ['progress', { stage: 'prefill', percent: 100 }],
    ]);
    const tokens = evs.slice(7, 19);
    expect(tokens.map((e) => e.event)).toEqual(Array(12).fill('token'));
    expect(tokens.map((e) => e.id)).toEqual(tokens.map((_, i) => String(i)));
    expect(tokens.map((e) => JSON.parse(e.data).t)).toEqual(answerTokens('rbee?', 12));
    expect(evs[19].event).toBe('metrics');
    expect(JSON.parse(evs[19].data).tokens_out).toBe(12);
    expect(evs[20]).toEqual({ event: undefined, id: undefined, data: '[DONE]' });
    expect(evs).toHaveLength(21);
  });

  test('?via=upstream forwards the OpenAI-compatible example as the same token events; the client leaving stops the upstream model', async () => {
    const up = await startOpenAI();
    const srv = await startInfer(up.base);
    const body = JSON.stringify({ prompt: 'through a proxy', max_tokens: 9, stream: true });
    const c = await connect(srv.port, { method: 'POST', path: '/v1/infer?via=upstream', headers: { 'Content-Type': 'application/json' }, body });
    await c.waitForEnd();
    const evs = c.events;
    expect(evs[0].event).toBe('started');
    const tokens = evs.filter((e) => e.event === 'token');
    expect(tokens.map((e) => JSON.parse(e.data).t)).toEqual(answerTokens('through a proxy', 9));
    expect(evs[evs.length - 1].data).toBe('[DONE]');
    expect((await srv.results.next()).reason).toBe('end');
    expect((await up.results.next()).reason).toBe('end');

    // A slow upstream, and our client leaves: forward aborts the upstream request, whose model stops.
    const slowUp = await startOpenAI({ tokenMs: 20, firstTokenMs: 0 });
    const srv2 = await startInfer(slowUp.base);
    const c2 = await connect(srv2.port, { method: 'POST', path: '/v1/infer?via=upstream', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'x', stream: true }) });
    await c2.waitFor((cl) => cl.events.filter((e) => e.event === 'token').length >= 3, 'three tokens');
    c2.destroy();
    expect((await srv2.results.next()).reason).toBe('client-left');
    const upstreamEnd = await slowUp.results.next('the upstream stream to end');
    expect(upstreamEnd.reason).toBe('client-left');
    expect(upstreamEnd.stats.stopped).toBe('aborted');
  });
});

/** Runs a client script in its own process (it loads dist/), bounded; resolves with its stdout. */
function runScript(file: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, file), 'from a script'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return within(new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err }))), `${file} to finish`, 30_000);
}

describe('the client scripts (child processes, dist/)', () => {
  test('openai-compatible/client.js (the openai client) and infer/client.js (events()) print the whole answer', async () => {
    const up = await startOpenAI();
    const a = await runScript('examples/openai-compatible/client.js', { BASE_URL: up.base });
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toContain(answerTokens('from a script').join(''));
    expect(a.out).toMatch(/\[usage\] .*"completion_tokens":\d+/);
    const inf = await startInfer();
    const b = await runScript('examples/infer/client.js', { INFER_URL: `http://127.0.0.1:${inf.port}/v1/infer` });
    expect(b.code).toBe(0);
    expect(b.out).toContain(answerTokens('from a script', 200).join(''));
    expect(b.err).toContain('[prefill 100%]');
  });
});

const maybe = haveChromium ? describe : describe.skip;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

maybe('the React chat page (Chromium)', () => {
  test.each([
    ['openai-compatible', 'openai'],
    ['infer', 'infer'],
  ])('%s: typing a prompt and Send streams the answer; TTFT and tokens/s shown', async (_name, kind) => {
    const srv = kind === 'openai' ? await startOpenAI({ tokenMs: 1, firstTokenMs: 5 }) : await startInfer();
    browser ??= await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`http://127.0.0.1:${srv.port}/`, { timeout: 10_000 });
      await page.fill('input', 'hello from the page', { timeout: 10_000 });
      await page.click('button[type=submit]', { timeout: 10_000 });
      await page.waitForFunction(() => document.querySelector('.stats')?.textContent?.includes('done status'), undefined, { timeout: 10_000 });
      const answer = await page.textContent('.turn .a');
      const full = answerTokens('hello from the page', kind === 'infer' ? 400 : Infinity).join('');
      expect(answer).toBe(full);
      const stats = await page.textContent('.stats');
      expect(stats).toMatch(/\d+ ms to first token/);
      expect(stats).toMatch(/[\d.]+ tokens\/s/);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
