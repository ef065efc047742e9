// pages/api/ticks.ts: the same with Node's (req, res); POST /api/announce reaches it.
import type { NextApiRequest, NextApiResponse } from 'next';
import { createSSEStream, registerConnection } from 'sse-native';

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const stream = createSSEStream(req, res, { retry: 2000 });
  registerConnection('announcements', stream); // left when the stream closes
  let n = Number(stream.lastEventId ?? 0);
  const tick = () => stream.send({ event: 'tick', id: String(++n), data: { n, from: 'pages' } });
  tick();
  const timer = setInterval(tick, 1000);
  stream.signal.addEventListener('abort', () => clearInterval(timer)); // the client left
}
