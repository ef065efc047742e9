// An OpenAI-compatible chat endpoint on a fake model:
//   POST /v1/chat/completions  { model, messages, stream: true }
// streams `chat.completion.chunk` objects in OpenAI's exact shape and ends
// with `data: [DONE]`, so the official `openai` client (and anything built
// on it) reads it unchanged. Without `stream` it answers one
// `chat.completion`. GET / is a React chat page using useSSEStream.
//   npm run build && node examples/openai-compatible/server.js  ->  http://127.0.0.1:3010
// The generator gets `sse.signal`: when the client leaves, it stops at once.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { createSSEStream, closeAll } = require('sse-native');
const { generate } = require('../shared/fake-model');
const { readJson, sendJson, sendText } = require('../shared/http');
const { page, APP } = require('../shared/chat-page');
const { reactBundle } = require('../shared/bundle');

const MODEL = 'fake-gpt';

/** Checks a chat request the way the API does; returns an error message or undefined. */
function invalid(body) {
  if (!Array.isArray(body.messages) || body.messages.length === 0) return '`messages` must be a non-empty array';
  for (const m of body.messages) {
    if (!m || typeof m.role !== 'string' || (typeof m.content !== 'string' && !Array.isArray(m.content))) return 'each message needs a `role` and a `content`';
  }
  return undefined;
}

function lastUserText(messages) {
  const m = [...messages].reverse().find((x) => x.role === 'user');
  if (!m) return '';
  return typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join('');
}

/** The one chunk shape every streamed event uses. */
function chunk(id, created, model, delta, finishReason = null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_sse_native',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/**
 * Builds the server; `tokenMs` / `firstTokenMs` set the fake model's pace;
 * `onResult({ reason, tokens, finished })` is told how each stream ended.
 */
function createServer({ tokenMs = 30, firstTokenMs = 250, onResult } = {}) {
  return http.createServer(async (req, res) => {
    const url = req.url.split('?')[0];
    if (req.method === 'GET' && url === '/') {
      return sendText(res, 'text/html', page({ endpoint: '/v1/chat/completions', kind: 'openai', title: 'OpenAI-compatible chat', subtitle: 'POST /v1/chat/completions with stream: true · chat.completion.chunk · data: [DONE]' }));
    }
    if (req.method === 'GET' && url === '/app.js') return sendText(res, 'text/javascript', APP);
    if (req.method === 'GET' && url === '/bundle.js') return sendText(res, 'text/javascript', reactBundle());
    if (req.method === 'GET' && url === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 0, owned_by: 'sse-native' }] });
    }
    if (req.method !== 'POST' || url !== '/v1/chat/completions') {
      return sendJson(res, 404, { error: { message: `no route ${req.method} ${url}`, type: 'invalid_request_error' } });
    }

    let body;
    try {
      body = await readJson(req);
    } catch (err) {
      return sendJson(res, err.status ?? 400, { error: { message: err.message, type: 'invalid_request_error' } });
    }
    const problem = invalid(body);
    if (problem) return sendJson(res, 400, { error: { message: problem, type: 'invalid_request_error', param: 'messages' } });

    const id = `chatcmpl-${crypto.randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = typeof body.model === 'string' ? body.model : MODEL;
    const prompt = lastUserText(body.messages);
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? Infinity;
    const stats = {};

    if (body.stream !== true) {
      let text = '';
      for await (const t of generate(prompt, { tokenMs: 0, firstTokenMs: 0, maxTokens, stats })) text += t;
      return sendJson(res, 200, {
        id, object: 'chat.completion', created, model, system_fingerprint: 'fp_sse_native',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt.length, completion_tokens: stats.tokens, total_tokens: prompt.length + stats.tokens },
      });
    }

    const sse = createSSEStream(req, res);
    // The first chunk carries the role, as OpenAI's does.
    sse.send({ data: chunk(id, created, model, { role: 'assistant', content: '', refusal: null }) });
    const tokens = generate(prompt, { signal: sse.signal, tokenMs, firstTokenMs, maxTokens, stats });
    const result = await sse.pipe(tokens, { map: (t) => ({ data: chunk(id, created, model, { content: t }) }) });
    onResult?.({ reason: result.reason, tokens: stats.tokens, stats });
    if (result.reason !== 'end') return sse.close(); // the client left (the generator stopped), or the model failed
    const finish = stats.tokens >= maxTokens ? 'length' : 'stop';
    sse.send({ data: chunk(id, created, model, {}, finish) });
    if (body.stream_options?.include_usage) {
      sse.send({ data: { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sse_native', choices: [],
        usage: { prompt_tokens: prompt.length, completion_tokens: stats.tokens, total_tokens: prompt.length + stats.tokens } } });
    }
    sse.send({ data: '[DONE]' });
    sse.close();
  });
}

module.exports = { createServer };

if (require.main === module) {
  const port = Number(process.env.PORT || 3010);
  const server = createServer().listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}  (POST /v1/chat/completions)`));
  process.on('SIGINT', () => {
    closeAll();
    server.close();
  });
}
