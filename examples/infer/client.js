// Reads POST /v1/infer with sse-native's own client: events() over a POST
// body, a for-await loop, stopped by [DONE].
//   node examples/infer/server.js &  node examples/infer/client.js "your prompt"
'use strict';
const { events } = require('sse-native/client');

async function main() {
  const url = process.env.INFER_URL || 'http://127.0.0.1:3011/v1/infer';
  const body = JSON.stringify({ prompt: process.argv[2] || 'Why stream with SSE?', max_tokens: 200, stream: true });
  const started = performance.now();
  let first = 0;
  for await (const ev of events(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, maxRetries: 0 })) {
    if (ev.data === '[DONE]') break; // leaving the loop closes the request
    const data = JSON.parse(ev.data);
    if (ev.event === 'progress') console.error(`[${data.stage} ${data.percent}%]`);
    else if (ev.event === 'token') {
      if (first === 0) first = performance.now();
      process.stdout.write(data.t);
    } else if (ev.event === 'metrics') console.log(`\n[${data.tokens_out} tokens, first after ${Math.round(first - started)} ms, ${data.tokens_per_sec} tokens/s]`);
    else if (ev.event === 'error') throw new Error(data.message);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
