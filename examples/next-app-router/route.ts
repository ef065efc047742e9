// Next.js App Router: app/api/chat/[id]/stream/route.ts (Node runtime).
// A fetch-style handler: createSSEStream() with no (req, res) returns a Web
// ReadableStream, sseResponse() wraps it with the SSE headers.
import { createSSEStream, sseResponse } from 'sse-native';

export const runtime = 'nodejs'; // the core is a native addon: not the Edge runtime
export const dynamic = 'force-dynamic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Stands in for a model's token stream.
async function* generate(prompt: string): AsyncGenerator<string> {
  for (const word of `You said: ${prompt}`.split(' ')) {
    await sleep(20);
    yield word + ' ';
  }
}

export async function GET(request: Request): Promise<Response> {
  const prompt = new URL(request.url).searchParams.get('prompt') ?? 'hello';
  // `request`: Last-Event-ID, and the stream closes when the client leaves.
  const { stream, send, close, sse } = createSSEStream({ request, retry: 3000 });

  (async () => {
    try {
      let n = 0;
      for await (const content of generate(prompt)) {
        if (sse.signal.aborted) return; // client went away: stop generating
        send({ event: 'chunk', id: String(++n), data: { content } });
      }
      send({ event: 'done', data: {} });
    } catch (err) {
      send({ event: 'error', data: { message: (err as Error).message } });
    } finally {
      close();
    }
  })();

  return sseResponse(stream);
}
