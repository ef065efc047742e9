// app/api/clock/route.ts: a tick every second until the client leaves.
import { createSSEStream, sseResponse } from 'sse-native';

export const dynamic = 'force-dynamic';

export function GET(request: Request) {
  const { stream, send, sse } = createSSEStream({ request, retry: 2000, key: 'clock' });
  let n = Number(sse.lastEventId ?? 0); // resumes after Last-Event-ID
  const tick = () => send({ event: 'tick', id: String(++n), data: { n } });
  tick();
  const timer = setInterval(tick, 1000);
  sse.signal.addEventListener('abort', () => clearInterval(timer)); // the client left
  return sseResponse(stream);
}
