// The demo page (browser code, no JSX, no build step): a chat on
// useSSEStream (POST /api/chat) and live charts of the server's metrics,
// read with useEventSource from /api/metrics and drawn on <canvas> here.
'use strict';
(function () {
  const { createElement: h, useState, useRef, useEffect, useLayoutEffect, StrictMode } = React;
  const { useSSEStream, useEventSource } = SSEReact;
  const HISTORY = 60; // samples kept: 30 s at two a second

  function fmt(n, unit) {
    if (n === null || n === undefined || Number.isNaN(n)) return '—';
    const abs = Math.abs(n);
    if (unit === 'B') {
      if (abs >= 1048576) return (n / 1048576).toFixed(abs >= 10485760 ? 0 : 1) + ' MB';
      if (abs >= 1024) return (n / 1024).toFixed(abs >= 10240 ? 0 : 1) + ' KB';
      return Math.round(n) + ' B';
    }
    if (unit === 'ms') return (abs >= 10 ? n.toFixed(0) : n.toFixed(1)) + ' ms';
    if (unit === 'int') return Math.round(n).toLocaleString('en-US');
    if (abs >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (abs >= 1e4) return (n / 1e3).toFixed(0) + 'k';
    if (abs >= 1e3) return (n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n));
  }

  // A line-and-area chart of one or two series; y from 0 to a rounded max.
  function draw(canvas, series, colors, unit) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, hgt = canvas.clientHeight;
    if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = hgt * dpr; }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    let max = 0;
    for (const s of series) for (const v of s) if (v !== null && v > max) max = v;
    const mag = Math.pow(10, Math.floor(Math.log10(max || 1)));
    const top = Math.max(1, Math.ceil((max || 1) / mag) * mag);
    const pad = { l: 2, r: 2, t: 6, b: 14 };
    const x = (i) => pad.l + (i / (HISTORY - 1)) * (w - pad.l - pad.r);
    const y = (v) => pad.t + (1 - v / top) * (hgt - pad.t - pad.b);
    ctx.strokeStyle = 'rgba(139,152,168,.14)';
    ctx.lineWidth = 1;
    for (let g = 0; g <= 2; g++) {
      const gy = Math.round(pad.t + (g / 2) * (hgt - pad.t - pad.b)) + 0.5;
      ctx.beginPath(); ctx.moveTo(pad.l, gy); ctx.lineTo(w - pad.r, gy); ctx.stroke();
    }
    ctx.fillStyle = 'rgba(139,152,168,.75)';
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillText(fmt(top, unit), pad.l + 2, pad.t + 9);
    ctx.fillText('30 s', w - pad.r - 22, hgt - 2);
    series.forEach((s, k) => {
      const off = HISTORY - s.length;
      const pts = [];
      s.forEach((v, i) => { if (v !== null) pts.push([x(off + i), y(v)]); });
      if (pts.length < 2) return;
      const grad = ctx.createLinearGradient(0, pad.t, 0, hgt - pad.b);
      grad.addColorStop(0, colors[k] + '55');
      grad.addColorStop(1, colors[k] + '00');
      ctx.beginPath();
      ctx.moveTo(pts[0][0], y(0));
      for (const [px, py] of pts) ctx.lineTo(px, py);
      ctx.lineTo(pts[pts.length - 1][0], y(0));
      ctx.closePath();
      ctx.fillStyle = grad;
      if (k === 0) ctx.fill();
      ctx.beginPath();
      pts.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
      ctx.strokeStyle = colors[k];
      ctx.lineWidth = 1.8;
      ctx.lineJoin = 'round';
      ctx.stroke();
    });
  }

  function Chart({ name, series, colors, unit, value }) {
    const ref = useRef(null);
    useLayoutEffect(() => { if (ref.current) draw(ref.current, series, colors, unit); });
    return h('div', { className: 'chart' },
      h('div', { className: 'top' }, h('span', { className: 'name' }, name), h('span', { className: 'val', style: { color: colors[0] } }, value)),
      h('canvas', { ref }));
  }

  function Metrics() {
    const [samples, setSamples] = useState([]);
    const m = useEventSource('/api/metrics', {
      onMessage: (_e, s) => setSamples((xs) => (xs.length >= HISTORY ? xs.slice(xs.length - HISTORY + 1) : xs.slice()).concat([s])),
    });
    const last = samples[samples.length - 1] || {};
    const col = (k) => samples.map((s) => s[k]);
    const fan = last.fanout;
    const [starting, setStarting] = useState(false);
    const startFanout = async () => {
      setStarting(true);
      try { await fetch('/api/fanout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ connections: 1000, seconds: 30 }) }); }
      finally { setStarting(false); }
    };
    const delay = last.delayP50 !== null && last.delayP50 !== undefined ? last : null;
    return h('section', { className: 'card' },
      h('h2', null, 'This server, live'),
      h('div', { className: 'sub' }, h('code', null, 'getMetrics()'), ' pushed twice a second over ', h('code', null, 'GET /api/metrics'), ' (SSE, ', h('code', null, 'useEventSource'), ') · send delay: broadcast → read by the load process'),
      h('div', { className: 'charts' },
        h(Chart, { name: 'Open connections', series: [col('connections')], colors: ['#58a6ff'], unit: '', value: fmt(last.connections, 'int') }),
        h(Chart, { name: 'Events sent / s', series: [col('eventsPerSec')], colors: ['#3fb950'], unit: '', value: fmt(last.eventsPerSec) }),
        h(Chart, { name: 'Bytes sent / s', series: [col('bytesPerSec')], colors: ['#bc8cff'], unit: 'B', value: fmt(last.bytesPerSec, 'B') + '/s' }),
        h(Chart, { name: 'Send delay p50 · p99', series: [col('delayP50'), col('delayP99')], colors: ['#f0883e', '#f85149'], unit: 'ms',
          value: delay ? fmt(delay.delayP50, 'ms') + ' · ' + fmt(delay.delayP99, 'ms') : '—' })),
      h('div', { className: 'fan' },
        h('button', { onClick: startFanout, disabled: starting || !!fan }, fan ? 'Fan-out running…' : 'Open 1 000 connections'),
        h('div', { className: 'txt' },
          fan
            ? h('div', null, h('b', { style: { color: '#e6edf3' } }, fmt(fan.connected, 'int') + ' / ' + fmt(fan.target, 'int')), ' connected · a broadcast every 50 ms, encoded once, written by the C++ core to every socket · ',
                fmt(fan.events), ' events received · ', fan.secondsLeft, ' s left',
                h('div', { className: 'bar' }, h('i', { style: { width: Math.round((100 * fan.connected) / fan.target) + '%' } })))
            : 'Starts a loopback load process on the server (browsers allow 6 connections per host) that opens 1 000 SSE connections for 30 s and times every event.')),
      h('div', { className: 'sub', style: { marginTop: '.6rem', marginBottom: 0 } }, m.isConnected ? 'metrics stream connected · RSS ' + fmt(last.rssMB) + ' MB' : 'connecting to the metrics stream…'));
  }

  function Chat() {
    const [prompt, setPrompt] = useState('How does sse-native stream model output?');
    const [turns, setTurns] = useState([]);
    const [asked, setAsked] = useState('');
    const t0 = useRef(0), tFirst = useRef(0), tLast = useRef(0);
    const s = useSSEStream('/api/chat', {
      onEvent: () => { const t = performance.now(); if (!tFirst.current) tFirst.current = t; tLast.current = t; },
      onDone: (text) => setTurns((ts) => ts.concat([{ q: asked, a: text }])),
    });
    const busy = s.status === 'connecting' || s.status === 'streaming';
    const [, tick] = useState(0);
    useEffect(() => { if (!busy) return; const id = setInterval(() => tick((n) => n + 1), 100); return () => clearInterval(id); }, [busy]);
    const n = s.events.length;
    const ttft = tFirst.current ? tFirst.current - t0.current : null;
    const end = busy ? performance.now() : tLast.current;
    const rate = tFirst.current && n > 1 ? (n - 1) / ((end - tFirst.current) / 1000) : null;
    const send = (e) => {
      e.preventDefault();
      if (busy || !prompt.trim()) return;
      t0.current = performance.now(); tFirst.current = 0; tLast.current = 0;
      setAsked(prompt);
      s.start({ body: { prompt } });
    };
    const log = useRef(null);
    useEffect(() => { if (log.current) log.current.scrollTop = log.current.scrollHeight; }, [s.text, turns.length]);
    return h('section', { className: 'card' },
      h('h2', null, 'Chat with a (fake) model'),
      h('div', { className: 'sub' }, h('code', null, 'POST /api/chat'), ' → ', h('code', null, 'sse.pipe(generate(prompt, { signal }))'), ' · read with ', h('code', null, 'useSSEStream'), ' · Stop ends the generator'),
      h('div', { className: 'log', ref: log },
        turns.length === 0 && !asked ? h('div', { className: 'empty' }, 'Ask something: tokens stream in as the model makes them.') : null,
        turns.map((t, i) => h('div', { key: i, className: 'turn' }, h('div', { className: 'q' }, t.q), h('div', { className: 'a' }, t.a))),
        asked && s.status !== 'done'
          ? h('div', { className: 'turn' }, h('div', { className: 'q' }, asked), h('div', { className: 'a' }, s.text, busy ? h('span', { className: 'caret' }) : null))
          : null),
      h('div', { className: 'kpis' },
        h('div', { className: 'kpi' }, h('b', null, ttft === null ? '—' : Math.round(ttft) + ' ms'), h('span', null, 'time to first token')),
        h('div', { className: 'kpi' }, h('b', null, rate === null ? '—' : rate.toFixed(1)), h('span', null, 'tokens / s')),
        h('div', { className: 'kpi' }, h('b', null, n), h('span', null, 'tokens')),
        h('div', { className: 'kpi' }, h('b', { id: 'chat-status' }, s.status), h('span', null, 'status'))),
      h('form', { onSubmit: send },
        h('input', { value: prompt, onChange: (e) => setPrompt(e.target.value), placeholder: 'Ask the fake model…' }),
        busy ? h('button', { type: 'button', className: 'stop', onClick: s.abort }, 'Stop') : h('button', { type: 'submit' }, 'Send')));
  }

  function App() {
    // The same URL as the metrics panel's: useEventSource shares one connection.
    const connected = useEventSource('/api/metrics').isConnected;
    return h('div', null,
      h('header', null,
        h('div', { className: 'logo' }, 'sse', h('span', null, '-native')),
        h('div', { className: 'tag' }, 'Server-Sent Events for Node.js · a C++ core on libuv writes to the sockets'),
        h('div', { className: 'live' }, h('i', { className: 'dot' + (connected ? ' on' : '') }), connected ? 'live' : 'offline')),
      h('main', null, h(Chat), h(Metrics)),
      h('footer', null, 'Everything on this page is served by examples/demo/server.js: no CDN, the charts are a few lines of canvas code.'));
  }

  ReactDOMClient.createRoot(document.getElementById('root')).render(h(StrictMode, null, h(App)));
})();
