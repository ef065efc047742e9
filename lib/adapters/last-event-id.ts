// The client's Last-Event-ID, the same rule for node:http and fetch-style
// requests: an empty value means none (WHATWG), and one longer than
// MAX_LAST_EVENT_ID is ignored (an sse-gap would echo it back unbounded).

/** Last-Event-ID values longer than this are ignored (treated as none). */
export const MAX_LAST_EVENT_ID = 1024;

/** `id` as a usable Last-Event-ID, or undefined for none. */
export function usableLastEventId(id: string | null | undefined): string | undefined {
  return id == null || id === '' || id.length > MAX_LAST_EVENT_ID ? undefined : id;
}
