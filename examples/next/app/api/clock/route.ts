// App Router route handler: GET /api/clock streams a `tick` event every
// second until the client leaves. The stream never ends by itself, so the
// browser's EventSource stays connected instead of reconnecting.
import { createSSEStream, sseResponse } from 'sse-native';

export const dynamic = 'force-dynamic'; // a stream is never prerendered

export function GET(request: Request): Response {
  // `request`: resumes from Last-Event-ID, and the stream closes when the
  // client leaves. `key`: counted under 'clock' (GET /api/announce shows it).
  const { stream, send, sse } = createSSEStream({ request, retry: 2000, key: 'clock' });
  let n = Number(sse.lastEventId ?? 0) || 0;
  const tick = () => send({ event: 'tick', id: String(++n), data: { n, at: new Date().toISOString() } });
  tick();
  const timer = setInterval(tick, 1000);
  sse.signal.addEventListener('abort', () => clearInterval(timer)); // client gone
  return sseResponse(stream);
}
