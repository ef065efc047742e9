'use client';
// A client page using the hook with the app's own React: no `ssr: false`,
// no dynamic import. On the server the hook renders "connecting"; in the
// browser it opens one EventSource per URL.
import { useState } from 'react';
import { useEventSource } from 'sse-native/react';

type Tick = { n?: number; at?: string; from?: string; text?: string };

function Ticks({ url, label }: { url: string; label: string }) {
  const [count, setCount] = useState(0);
  const [opens, setOpens] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const { data, isConnected, error } = useEventSource<Tick>(url, {
    events: ['tick', 'announcement'],
    onOpen: () => setOpens((o) => o + 1), // once: the route streams until the page leaves
    onMessage: (event, tick) => {
      // every event, even several between two renders
      if (event.type === 'announcement') setAnnouncement(tick.text ?? '');
      else setCount((c) => c + 1);
    },
  });
  return (
    <section data-testid={label}>
      <h2>{label}</h2>
      <p>
        <span data-testid={`${label}-state`}>{isConnected ? 'connected' : error ? 'reconnecting' : 'connecting'}</span>
        {' · '}events received: <span data-testid={`${label}-count`}>{count}</span>
        {' · '}latest: <span data-testid={`${label}-latest`}>{data?.n ?? '-'}</span>
        {' · '}connections opened: <span data-testid={`${label}-opens`}>{opens}</span>
      </p>
      {announcement && <p data-testid={`${label}-announcement`}>{announcement}</p>}
    </section>
  );
}

export default function Home() {
  return (
    <main>
      <h1>sse-native + Next.js</h1>
      <Ticks url="/api/clock" label="app-router" />
      <Ticks url="/api/ticks" label="pages-api" />
      <p>
        <a href="/chat">Chat (POST streaming)</a>
      </p>
    </main>
  );
}
