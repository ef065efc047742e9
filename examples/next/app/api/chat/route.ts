// App Router route handler: POST /api/chat with {"message": "..."} streams
// the reply word by word (`event: token`), then `event: done`, then ends.
import { createSSEStream, sseResponse } from 'sse-native';

export const dynamic = 'force-dynamic';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function POST(request: Request): Promise<Response> {
  const body = (await request.json().catch(() => ({}))) as { message?: unknown };
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : 'nothing';
  const { stream, send, close, sse } = createSSEStream({ request });

  (async () => {
    // Stands in for a model's token stream.
    for (const word of `You said: ${message}`.split(' ')) {
      if (sse.signal.aborted) return; // the client went away: stop generating
      send({ event: 'token', data: { content: word + ' ' } });
      await sleep(30);
    }
    send({ event: 'done', data: '[DONE]' });
    close(); // a reply ends; the client does not reconnect (fetchEventSource resolves)
  })();

  return sseResponse(stream);
}
