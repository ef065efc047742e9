'use client'; // app/simple/page.tsx: the latest tick, rendered as it arrives
import { useEventSource } from 'sse-native/react';

export default function Clock() {
  const { data, isConnected } = useEventSource<{ n: number }>('/api/clock', { events: ['tick'] });
  return (
    <p>
      <span data-testid="simple-state">{isConnected ? 'live' : 'connecting'}</span>: tick{' '}
      <span data-testid="simple-n">{data?.n ?? '-'}</span>
    </p>
  );
}
