// Pages Router API route: GET /api/ticks. The handler gets Node's (req, res),
// so sse-native's core takes the socket over, as with Express.
import type { NextApiRequest, NextApiResponse } from 'next';
import { createSSEStream, registerConnection } from 'sse-native';

export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  const sse = createSSEStream(req, res, { retry: 2000 });
  registerConnection('announcements', sse); // POST /api/announce reaches it; it leaves when it closes
  let n = Number(sse.lastEventId ?? 0) || 0;
  const tick = () => sse.send({ event: 'tick', id: String(++n), data: { n, from: 'pages' } });
  tick();
  const timer = setInterval(tick, 1000);
  sse.signal.addEventListener('abort', () => clearInterval(timer)); // client gone
}
