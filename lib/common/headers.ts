// The headers every SSE response sends (seed 004's list), for the adopted
// head, the res.write fallback and sseResponse() alike.

/** Headers of every SSE response; options and sseResponse's `init.headers` add to or override them. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
});
