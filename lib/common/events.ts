// Typed events, shared by the server (SSEStream<E>, broadcast<E>) and the
// clients (events<E>, fetchEventSource<E>, the hooks). An event map names a
// stream's events and the type of each one's data; 'message' stands for
// events sent without a name. Types only, plus the one rule clients use to
// turn data back into a value. No Node and no addon.

/** Event names to the type of their data: `{ progress: { pct: number }; done: string }`. */
export type EventMap = Record<string, unknown>;

/**
 * An event as a typed client delivers it: `event` is one of E's names
 * ('message' for an unnamed event) and `data` that event's type, so
 * `switch (ev.event)` narrows `ev.data`. The types are a promise about what
 * the server sends (an SSEStream<E> on the server keeps it); nothing checks
 * them at run time.
 */
export type SSEEventOf<E extends EventMap> = {
  [K in keyof E & string]: { event: K; data: E[K]; id: string | undefined };
}[keyof E & string];

/**
 * The data rule of the server, undone: the server sends a string as it is
 * and anything else as JSON, so data that parses as JSON is that value and
 * any other is the string itself (`[DONE]` stays '[DONE]'). A string that
 * is itself valid JSON text ('42', 'true', '"x"') comes back parsed.
 */
export function decodeData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
