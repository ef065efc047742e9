/**
 * `useEventSource`, a React hook over a shared EventSource.
 * @module sse-native/react
 */
export * from '../../lib/react/index';
