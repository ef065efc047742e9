// An rbee-style inference endpoint on a fake model:
//   POST /v1/infer  { prompt, max_tokens?, stream: true }
// streams named events — `started`, `progress` (loading, prefill), one
// `token` per token with its index as the event id, `metrics` — and ends
// with `data: [DONE]`. With `upstream` set (an OpenAI-compatible base URL,
// e.g. examples/openai-compatible), POST /v1/infer?via=upstream asks that
// API instead and forward()s its chunks as the same `token` events.
// GET / is a React chat page using useSSEStream.
//   npm run build && node examples/infer/server.js  ->  http://127.0.0.1:3011
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { createSSEStream, closeAll } = require('sse-native');
const { generate, sleep } = require('../shared/fake-model');
const { readJson, sendJson, sendText } = require('../shared/http');
const { page, APP } = require('../shared/chat-page');
const { reactBundle } = require('../shared/bundle');

/**
 * Builds the server; `tokenMs` / `firstTokenMs` set the fake model's pace;
 * `upstream` enables ?via=upstream; `onResult({ reason, tokens })` is told
 * how each stream ended.
 */
function createServer({ tokenMs = 30, firstTokenMs = 250, upstream = process.env.UPSTREAM, onResult } = {}) {
  return http.createServer(async (req, res) => {
    const [url, query = ''] = req.url.split('?');
    if (req.method === 'GET' && url === '/') {
      return sendText(res, 'text/html', page({ endpoint: '/v1/infer', kind: 'infer', title: 'rbee-style inference', subtitle: 'POST /v1/infer · event: started / progress / token / metrics · data: [DONE]' }));
    }
    if (req.method === 'GET' && url === '/app.js') return sendText(res, 'text/javascript', APP);
    if (req.method === 'GET' && url === '/bundle.js') return sendText(res, 'text/javascript', reactBundle());
    if (req.method !== 'POST' || url !== '/v1/infer') return sendJson(res, 404, { error: `no route ${req.method} ${url}` });

    let body;
    try {
      body = await readJson(req);
    } catch (err) {
      return sendJson(res, err.status ?? 400, { error: err.message });
    }
    if (typeof body.prompt !== 'string' || body.prompt === '') return sendJson(res, 400, { error: '`prompt` must be a non-empty string' });
    if (body.stream !== true) return sendJson(res, 400, { error: 'this endpoint streams: send `stream: true`' });
    const maxTokens = Number.isSafeInteger(body.max_tokens) && body.max_tokens > 0 ? body.max_tokens : Infinity;
    const viaUpstream = new URLSearchParams(query).get('via') === 'upstream';
    if (viaUpstream && !upstream) return sendJson(res, 400, { error: 'no upstream configured (start with UPSTREAM=http://host:port/v1)' });

    const jobId = `job-${crypto.randomBytes(6).toString('hex')}`;
    const sse = createSSEStream(req, res, { heartbeatMs: 15_000 });
    const started = Date.now();
    sse.send({ event: 'started', data: { job_id: jobId, model: viaUpstream ? 'upstream' : 'fake-llama-8b', max_tokens: body.max_tokens ?? null } });

    let result;
    if (viaUpstream) {
      // Proxy: the upstream's OpenAI chunks become `token` events; aborting
      // `ac` (forward does it when our client leaves) ends the upstream request.
      const ac = new AbortController();
      let upstreamRes;
      try {
        upstreamRes = await fetch(`${upstream.replace(/\/$/, '')}/chat/completions`, {
          method: 'POST',
          signal: ac.signal,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ model: 'fake-gpt', stream: true, max_tokens: body.max_tokens, messages: [{ role: 'user', content: body.prompt }] }),
        });
      } catch (err) {
        sse.send({ event: 'error', data: { message: `upstream unreachable: ${err.message}` } });
        return sse.close();
      }
      let i = 0;
      result = await sse.forward(upstreamRes, {
        abort: ac,
        comments: false,
        map: (ev) => {
          if (ev.data === '[DONE]') return null;
          const content = JSON.parse(ev.data).choices?.[0]?.delta?.content;
          return content ? { event: 'token', id: String(i), data: { t: content, i: i++ } } : null;
        },
        error: (err) => ({ event: 'error', data: { message: String(err.message ?? err) } }),
      });
      result.tokens = i;
    } else {
      // Named progress events while the (fake) model loads and reads the prompt.
      for (const [stage, steps] of [['loading_model', 4], ['prefill', 2]]) {
        for (let k = 1; k <= steps; k++) {
          if (!(await sleep(firstTokenMs / 6, sse.signal))) return; // the client left
          sse.send({ event: 'progress', data: { stage, percent: Math.round((k / steps) * 100) } });
        }
      }
      const stats = {};
      result = await sse.pipe(generate(body.prompt, { signal: sse.signal, tokenMs, firstTokenMs: 0, maxTokens, stats }), {
        map: (t, i) => ({ event: 'token', id: String(i), data: { t, i } }),
        error: (err) => ({ event: 'error', data: { message: String(err.message ?? err) } }),
      });
      result.tokens = stats.tokens;
      result.stats = stats;
    }
    onResult?.({ reason: result.reason, tokens: result.tokens, stats: result.stats });
    if (result.reason !== 'end') return sse.close();
    const ms = Date.now() - started;
    sse.send({ event: 'metrics', data: { job_id: jobId, tokens_out: result.tokens, total_ms: ms, tokens_per_sec: Number(((result.tokens * 1000) / Math.max(ms, 1)).toFixed(1)) } });
    sse.send({ data: '[DONE]' });
    sse.close();
  });
}

module.exports = { createServer };

if (require.main === module) {
  const port = Number(process.env.PORT || 3011);
  const server = createServer().listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}  (POST /v1/infer)`));
  process.on('SIGINT', () => {
    closeAll();
    server.close();
  });
}
