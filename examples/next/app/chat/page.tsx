'use client';
// POST a message and show the reply as it streams: fetchEventSource from
// sse-native/client (the browser build: fetch + a TypeScript parser).
import { useRef, useState, type FormEvent } from 'react';
import { fetchEventSource } from 'sse-native/client';

export default function Chat() {
  const [reply, setReply] = useState('');
  const [status, setStatus] = useState<'idle' | 'streaming' | 'done' | 'error'>('idle');
  const abort = useRef<AbortController | null>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const message = String(new FormData(e.currentTarget).get('message') ?? '');
    abort.current?.abort();
    const ac = (abort.current = new AbortController());
    setReply('');
    setStatus('streaming');
    try {
      await fetchEventSource('/api/chat', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ message }),
        signal: ac.signal,
        onmessage: (ev) => {
          if (ev.event === 'token') setReply((r) => r + (JSON.parse(ev.data) as { content: string }).content);
          if (ev.event === 'done') setStatus('done');
        },
      });
    } catch {
      setStatus('error');
    }
  }

  return (
    <main>
      <h1>Chat</h1>
      <form onSubmit={onSubmit}>
        <input name="message" defaultValue="hello from the browser" aria-label="message" />
        <button type="submit">Send</button>
      </form>
      <p data-testid="status">{status}</p>
      <p data-testid="reply">{reply}</p>
    </main>
  );
}
