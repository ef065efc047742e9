// Reads the example's stream with the official `openai` client, unchanged:
// only baseURL points here.
//   node examples/openai-compatible/server.js &  node examples/openai-compatible/client.js "your question"
// (`npm i openai` first if it is not installed: it is this repo's devDependency.)
'use strict';
const OpenAI = require('openai').default;

async function main() {
  const client = new OpenAI({ apiKey: 'not-needed', baseURL: process.env.BASE_URL || 'http://127.0.0.1:3010/v1' });
  const started = performance.now();
  let first = 0;
  let n = 0;
  const stream = await client.chat.completions.create({
    model: 'fake-gpt',
    messages: [{ role: 'user', content: process.argv[2] || 'Why stream with SSE?' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    const text = chunk.choices[0]?.delta?.content;
    if (text) {
      if (n++ === 0) first = performance.now();
      process.stdout.write(text);
    }
    if (chunk.usage) console.log(`\n\n[usage] ${JSON.stringify(chunk.usage)}`);
  }
  const secs = (performance.now() - first) / 1000;
  console.log(`[${n} tokens, first after ${Math.round(first - started)} ms, ${((n - 1) / secs).toFixed(1)} tokens/s]`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
