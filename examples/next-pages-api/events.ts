// Next.js pages API route: pages/api/events.ts. The handler gets Node's
// (req, res), so the C++ core adopts the socket as with Express.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSSEStream } from 'sse-native';

// NextApiRequest / NextApiResponse extend these; no import from 'next' needed here.
export default function handler(req: IncomingMessage, res: ServerResponse): void {
  const sse = createSSEStream(req, res, { retry: 3000, heartbeatMs: 15000 });
  let n = Number(sse.lastEventId ?? 0) || 0;
  sse.send({ event: 'hello', id: String(n), data: { resumedFrom: sse.lastEventId ?? null } });
  const timer = setInterval(() => {
    n++;
    sse.send({ event: 'tick', id: String(n), data: { n, at: Date.now() } });
    if (n % 10 === 0) sse.comment(`${n} ticks`);
  }, 1000);
  // Not req.on('close'): once adopted, req/res are closed at once by design.
  sse.signal.addEventListener('abort', () => clearInterval(timer));
}

// Keep Next from buffering or parsing anything for this route.
export const config = { api: { bodyParser: false, responseLimit: false } };
