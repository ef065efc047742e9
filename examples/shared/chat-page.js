// The React chat page of the LLM examples: one file, no JSX, no build step,
// no CDN. The server serves page(config) at / and reactBundle() at
// /bundle.js; the page POSTs each prompt with useSSEStream from
// sse-native/react and shows the answer as it streams, with time to first
// token and tokens per second.
'use strict';

/** Browser code (runs in the page, as a classic script after the bundle). */
const APP = String.raw`
const { createElement: h, useState, useRef, useEffect, StrictMode } = React;
const { useSSEStream } = SSEReact;
const CFG = window.CHAT;

function bodyFor(history, prompt) {
  if (CFG.kind === 'openai') {
    return { model: 'fake-gpt', stream: true, stream_options: { include_usage: true },
      messages: [...history.flatMap((m) => [{ role: 'user', content: m.prompt }, { role: 'assistant', content: m.answer }]), { role: 'user', content: prompt }] };
  }
  return { prompt, max_tokens: 400, stream: true };
}

function textOf(e) {
  if (CFG.kind === 'infer') return e.event === 'token' ? e.data.t : undefined;
  const c = e.data && e.data.choices && e.data.choices[0];
  return c && c.delta ? c.delta.content : undefined;
}

function Meter({ label, value }) {
  return h('span', { className: 'meter' }, h('b', null, value), ' ', label);
}

function Chat() {
  const [history, setHistory] = useState([]);
  const [prompt, setPrompt] = useState('Why do model APIs stream with SSE?');
  const [asked, setAsked] = useState('');
  const t0 = useRef(0);
  const tFirst = useRef(0);
  const [progress, setProgress] = useState(null);
  const s = useSSEStream(CFG.endpoint, {
    text: textOf,
    onOpen: () => {},
    onEvent: (e) => {
      if (tFirst.current === 0 && textOf(e)) tFirst.current = performance.now();
      if (e.event === 'progress') setProgress(e.data);
    },
    onDone: (text) => setHistory((hs) => [...hs, { prompt: asked, answer: text, ttft: tFirst.current - t0.current, ms: performance.now() - t0.current }]),
  });
  const tokens = s.events.filter((e) => textOf(e)).length;
  const now = performance.now();
  const ttft = tFirst.current ? tFirst.current - t0.current : null;
  const rate = tFirst.current && tokens > 1 ? (tokens - 1) / ((now - tFirst.current) / 1000) : null;
  const busy = s.status === 'connecting' || s.status === 'streaming';
  const send = (ev) => {
    ev.preventDefault();
    if (!prompt.trim() || busy) return;
    t0.current = performance.now();
    tFirst.current = 0;
    setProgress(null);
    setAsked(prompt);
    s.start({ body: bodyFor(history, prompt) });
  };
  const log = useRef(null);
  useEffect(() => { if (log.current) log.current.scrollTop = log.current.scrollHeight; }, [s.text, history.length]);
  return h('div', { className: 'chat' },
    h('header', null, h('h1', null, CFG.title), h('p', null, CFG.subtitle)),
    h('div', { className: 'log', ref: log },
      history.map((m, i) => h('div', { key: i, className: 'turn' },
        h('div', { className: 'q' }, m.prompt),
        h('div', { className: 'a' }, m.answer))),
      asked && s.status !== 'done'
        ? h('div', { className: 'turn live' },
            h('div', { className: 'q' }, asked),
            h('div', { className: 'a' }, s.text, busy ? h('span', { className: 'caret' }) : null,
              progress && !s.text ? h('span', { className: 'progress' }, progress.stage + ' ' + progress.percent + '%') : null))
        : null),
    h('div', { className: 'stats' },
      h(Meter, { label: 'status', value: s.status }),
      h(Meter, { label: 'to first token', value: ttft === null ? '—' : Math.round(ttft) + ' ms' }),
      h(Meter, { label: 'tokens/s', value: rate === null ? '—' : rate.toFixed(1) }),
      h(Meter, { label: 'tokens', value: tokens }),
      s.error ? h('span', { className: 'err' }, String(s.error.message || s.error)) : null),
    h('form', { onSubmit: send },
      h('input', { value: prompt, onChange: (e) => setPrompt(e.target.value), placeholder: 'Ask the fake model…' }),
      busy ? h('button', { type: 'button', onClick: s.abort, className: 'stop' }, 'Stop')
           : h('button', { type: 'submit' }, 'Send')));
}

ReactDOMClient.createRoot(document.getElementById('root')).render(h(StrictMode, null, h(Chat)));
`;

const CSS = `
  :root { color-scheme: dark; --bg:#0d1117; --card:#161b22; --line:#30363d; --fg:#e6edf3; --dim:#8b949e; --acc:#58a6ff; }
  body { margin:0; background:var(--bg); color:var(--fg); font:15px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; }
  .chat { max-width: 48rem; margin: 0 auto; padding: 1.5rem; display:flex; flex-direction:column; height: 100vh; box-sizing: border-box; }
  header h1 { margin:0; font-size: 1.3rem; } header p { margin:.2rem 0 1rem; color:var(--dim); }
  .log { flex:1; overflow:auto; background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem; }
  .turn { margin-bottom: 1.2rem; } .q { color:var(--acc); font-weight:600; margin-bottom:.3rem; } .a { white-space: pre-wrap; }
  .caret { display:inline-block; width:.55em; height:1em; background:var(--acc); vertical-align:-2px; margin-left:2px; animation: blink 1s steps(1) infinite; }
  @keyframes blink { 50% { opacity: 0; } }
  .progress { color: var(--dim); font-style: italic; }
  .stats { display:flex; gap:1.2rem; flex-wrap:wrap; color:var(--dim); font-size:.85rem; margin:.7rem 0; }
  .meter b { color: var(--fg); font-variant-numeric: tabular-nums; } .err { color:#f85149; }
  form { display:flex; gap:.5rem; }
  input { flex:1; background:var(--card); color:var(--fg); border:1px solid var(--line); border-radius:8px; padding:.65rem .8rem; font:inherit; }
  button { background:var(--acc); color:#0d1117; border:0; border-radius:8px; padding:.6rem 1.1rem; font-weight:600; cursor:pointer; }
  button.stop { background:#f85149; color:white; }
`;

/** The HTML page for `config`: { endpoint, title, subtitle, kind: 'openai' | 'infer' }. */
function page(config) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${config.title}</title><style>${CSS}</style></head>
<body><div id="root"></div>
<script>window.CHAT = ${JSON.stringify(config)};</script>
<script src="/bundle.js"></script><script src="/app.js"></script></body></html>`;
}

module.exports = { page, APP };
