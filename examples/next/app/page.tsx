'use client';
// A client page using the hook with the app's own React: no `ssr: false`,
// no dynamic import. On the server the hook renders "connecting"; in the
// browser it opens one EventSource per URL.
import { useState } from 'react';
import { useEventSource } from 'sse-native/react';

type Tick = { n: number; at?: string; from?: string };

function Ticks({ url, label }: { url: string; label: string }) {
  const [count, setCount] = useState(0);
  const { data, isConnected, error } = useEventSource<Tick>(url, {
    events: ['tick'],
    onMessage: () => setCount((c) => c + 1), // every event, even several between renders
  });
  return (
    <section data-testid={label}>
      <h2>{label}</h2>
      <p>
        <span data-testid={`${label}-state`}>{isConnected ? 'connected' : error ? 'reconnecting' : 'connecting'}</span>
        {' · '}events received: <span data-testid={`${label}-count`}>{count}</span>
        {' · '}latest: <span data-testid={`${label}-latest`}>{data ? String(data.n) : '-'}</span>
      </p>
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
