/**
 * Clients: `EventSource` for Node, `fetchEventSource`, `events()`. In browsers this path resolves to a build over `fetch` with a TypeScript parser.
 * @module sse-native/client
 */
export * from '../../lib/node-client';
