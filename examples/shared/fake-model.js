// A fake language model for the examples: no weights, no download. It
// answers with a fixed text (mentioning the prompt) cut into small
// word-piece tokens, one every `tokenMs`, after `firstTokenMs` of "prefill".
// It takes an AbortSignal and stops at once when it aborts: a generator
// waiting in its own await cannot be interrupted from outside, so the wait
// itself listens to the signal.
'use strict';

const ANSWER =
  'Server-Sent Events keep one HTTP response open and write lines that start with data:, ' +
  'and the browser turns each block into a message event. That is why most model APIs stream ' +
  'tokens this way: it is plain HTTP, proxies pass it, and a client that reconnects sends ' +
  'Last-Event-ID to resume. sse-native encodes every frame in C++ — UTF-8 stays whole, even ' +
  'when a token ends inside a character like é or 🚀 — and stops the generator as soon as ' +
  'the reader leaves, so no GPU time is spent on an answer nobody reads.';

/** Cuts text into word pieces of 2 to 4 characters, the way a tokenizer's output looks. */
function tokenize(text) {
  const out = [];
  for (const word of text.match(/\s*\S+/gu) || []) {
    const chars = [...word];
    for (let i = 0; i < chars.length; ) {
      const n = 2 + ((i * 7 + chars.length) % 3);
      out.push(chars.slice(i, i + n).join(''));
      i += n;
    }
  }
  return out;
}

/** Resolves after `ms`, or at once (to false) when `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const done = (ok) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The tokens of the answer to `prompt`. */
function answerTokens(prompt, maxTokens = Infinity) {
  const p = String(prompt ?? '').trim().slice(0, 80);
  const text = (p ? `You asked: “${p}”. ` : '') + ANSWER;
  return tokenize(text).slice(0, maxTokens);
}

/**
 * Yields the answer's tokens; `stats` (if given) gets `tokens` and
 * `stopped` ('end' | 'aborted') so a server can log what was spent.
 */
async function* generate(prompt, { signal, tokenMs = 30, firstTokenMs = 250, maxTokens = Infinity, stats = {} } = {}) {
  const tokens = answerTokens(prompt, maxTokens);
  stats.tokens = 0;
  stats.stopped = 'aborted';
  try {
    if (!(await sleep(firstTokenMs, signal))) return;
    for (let i = 0; i < tokens.length; i++) {
      if (i > 0 && !(await sleep(tokenMs, signal))) return;
      stats.tokens++;
      yield tokens[i];
    }
    stats.stopped = 'end';
  } finally {
    stats.finished = true;
  }
}

module.exports = { generate, tokenize, answerTokens, sleep };
