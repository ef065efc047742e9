// Every error a user sees names the fix. The errors that are cheap to cause
// (bad options and messages, misuse of a closed stream, bad client options,
// every status text of the core) are caused here, and each message must say
// what to do or what is expected: an instruction (pass, call, raise, use,
// stop, ...), a "must be ..." with what was got, or a "did you mean". Server
// errors also keep their `code` (users branch on it, never on the text).
// Not a snapshot: wording may change as long as it still names a fix.
import { once } from 'node:events';
import {
  SSEError,
  broadcast,
  closeAll,
  configureKey,
  createParser,
  createSSEStream,
  registerConnection,
  setLimits,
} from '../lib/index';
import { EventSource, SSEContentTypeError, SSEHttpError, SSERetriesExhaustedError, fetchEventSource } from '../lib/node-client';
import { createParser as createParserTs } from '../lib/client/parser-ts';
import { frameStatusError, FrameStatus } from '../lib/common/encoder-ts';
import { C } from '../lib/native/binding';
import { connect, startSSE, useTestEnv } from './helpers/server';

useTestEnv();

const FIX =
  /\b(pass|call|use|raise|lower|stop|register|check|create|send|return|leave|keep|encode|run|install|did you mean)\b|\bmust (be|hold|look like|not contain) [^,;:]+(, got|: |\))|\blike [{['"]/i;

function namesFix(message: string): boolean {
  return FIX.test(message);
}

/** The error `fn` throws (or the promise rejects with). */
function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const web = () => createSSEStream({ heartbeatMs: 0 }).sse;

// [what, how to cause it, the code it must keep (undefined: a client-side error without one)]
const SERVER: [string, () => unknown, string][] = [
  ['unknown option', () => createSSEStream({ heartbeat: 1000 } as never), 'ERR_INVALID_ARG_VALUE'],
  ['options not an object', () => createSSEStream(7 as never), 'ERR_INVALID_ARG_TYPE'],
  ['status out of range', () => createSSEStream({ status: 42 }), 'ERR_INVALID_ARG_VALUE'],
  ['headers not an object', () => createSSEStream({ headers: 'x' as never }), 'ERR_INVALID_ARG_VALUE'],
  ['bad header name', () => createSSEStream({ headers: { 'a b': 'x' } }), 'ERR_INVALID_ARG_VALUE'],
  ['header value with LF', () => createSSEStream({ headers: { 'X-A': 'a\nb' } }), 'ERR_INVALID_ARG_VALUE'],
  ['adopt not a boolean', () => createSSEStream({ adopt: 'yes' as never }), 'ERR_INVALID_ARG_VALUE'],
  ['resume not a boolean', () => createSSEStream({ resume: 1 as never }), 'ERR_INVALID_ARG_VALUE'],
  ['maxBuffered below highWaterMark', () => createSSEStream({ maxBuffered: 1, highWaterMark: 10 }), 'ERR_INVALID_ARG_VALUE'],
  ['onSlowConsumer', () => createSSEStream({ onSlowConsumer: 'wait' as never }), 'ERR_INVALID_ARG_VALUE'],
  ['format', () => createSSEStream({ format: 'xml' as never }), 'ERR_INVALID_ARG_VALUE'],
  ['retry negative', () => createSSEStream({ retry: -1 }), 'ERR_INVALID_ARG_TYPE'],
  ['send(null)', () => web().send(null as never), 'ERR_INVALID_ARG_TYPE'],
  ['event with LF', () => web().send({ event: 'a\nb', data: 1 }), 'ERR_INVALID_ARG_VALUE'],
  ['id with LF', () => web().send({ id: 'a\nb', data: 1 }), 'ERR_INVALID_ARG_VALUE'],
  ['retry not an integer', () => web().send({ retry: 1.5, data: 1 }), 'ERR_INVALID_ARG_VALUE'],
  ['data not JSON', () => web().send({ data: 10n }), 'ERR_INVALID_ARG_VALUE'],
  ['comment not a string', () => web().comment(1 as never), 'ERR_INVALID_ARG_TYPE'],
  ['sendRaw not bytes', () => web().sendRaw('x' as never), 'ERR_INVALID_ARG_TYPE'],
  ['empty key', () => registerConnection('', () => {}), 'ERR_INVALID_ARG_VALUE'],
  ['bad target', () => registerConnection('k', 42 as never), 'ERR_INVALID_ARG_TYPE'],
  ['register options', () => registerConnection('k', () => {}, null as never), 'ERR_INVALID_ARG_TYPE'],
  ['register resume', () => registerConnection('k', () => {}, { resume: 'y' as never }), 'ERR_INVALID_ARG_TYPE'],
  ['broadcast options', () => broadcast('k', 'e', 1, 'x' as never), 'ERR_INVALID_ARG_TYPE'],
  ['configureKey options', () => configureKey('k', null as never), 'ERR_INVALID_ARG_TYPE'],
  ['setLimits', () => setLimits(null as never), 'ERR_INVALID_ARG_TYPE'],
  ['setLimits value', () => setLimits({ maxConnections: -1 }), 'ERR_INVALID_ARG_TYPE'],
  ['closeAll timeout', () => closeAll(undefined, { timeoutMs: -1 }), 'ERR_INVALID_ARG_VALUE'],
  ['web request', () => createSSEStream({ request: 'x' as never }), 'ERR_INVALID_ARG_TYPE'],
];

test.each(SERVER)('server: %s names the fix and keeps its code', (_what, cause, code) => {
  const err = caught(cause);
  expect(err).toBeInstanceOf(Error);
  expect((err as { code?: string }).code).toBe(code);
  expect({ message: err.message, namesFix: namesFix(err.message) }).toEqual({ message: err.message, namesFix: true });
});

const CLIENT: [string, () => unknown][] = [
  ['init not an object', () => fetchEventSource('http://127.0.0.1:1/', null as never)],
  ['onmessage not a function', () => fetchEventSource('http://127.0.0.1:1/', { onmessage: 1 as never })],
  ['retryDelay', () => fetchEventSource('http://127.0.0.1:1/', { retryDelay: -1 })],
  ['maxRetries', () => fetchEventSource('http://127.0.0.1:1/', { maxRetries: -1 })],
  ['jitter', () => fetchEventSource('http://127.0.0.1:1/', { jitter: 2 })],
  ['json', () => fetchEventSource('http://127.0.0.1:1/', { json: 'yes' as never })],
  ['maxBufferSize', () => fetchEventSource('http://127.0.0.1:1/', { maxBufferSize: 0 })],
  ['EventSource init', () => new EventSource('http://127.0.0.1:1/', null as never)],
  ['EventSource retry', () => new EventSource('http://127.0.0.1:1/', { retry: -1 })],
  ['parser config a function', () => createParser((() => {}) as never)],
  ['parser callback', () => createParser({ onEvent: 1 as never })],
  ['parser-ts callback', () => createParserTs({ onEvent: 1 as never })],
  ['parser maxBufferSize', () => createParser({ maxBufferSize: 0 })],
];

test.each(CLIENT)('client: %s names the fix', async (_what, cause) => {
  let err: Error;
  try {
    await cause();
    throw new Error('expected a throw');
  } catch (e) {
    err = e as Error;
  }
  expect(err).toBeInstanceOf(TypeError);
  expect({ message: err.message, namesFix: namesFix(err.message) }).toEqual({ message: err.message, namesFix: true });
});

test('client errors a stream can end with name the fix', () => {
  const errors = [
    new SSEHttpError(404, 'Not Found', 'http://x/events'),
    new SSEHttpError(503, 'Service Unavailable', 'http://x/events'),
    new SSEContentTypeError('text/html', 'http://x/events'),
    new SSERetriesExhaustedError(3, new Error('connect ECONNREFUSED')),
  ];
  for (const err of errors) expect({ message: err.message, namesFix: namesFix(err.message) }).toEqual({ message: err.message, namesFix: true });
});

test('every status text of the core (and its TypeScript twin) names the fix', () => {
  const rows = C.statuses.filter((s) => s.name !== 'OK');
  expect(rows.length).toBeGreaterThan(10);
  for (const s of rows) expect({ name: s.name, text: s.text, namesFix: namesFix(s.text) }).toEqual({ name: s.name, text: s.text, namesFix: true });
  // The twin's texts are the core's, word for word.
  const byName = new Map(C.statuses.map((s) => [s.name, s.text]));
  expect(frameStatusError(FrameStatus.invalidEvent).message).toBe(byName.get('INVALID_EVENT'));
  expect(frameStatusError(FrameStatus.invalidId).message).toBe(byName.get('INVALID_ID'));
});

test('why a stream closed names the fix: close() and a client that left', async () => {
  const closed = web();
  const signal = closed.signal;
  closed.close();
  await once(closed, 'close');
  const reason = signal.reason as SSEError;
  expect(reason.code).toBe('SSE_CLOSED');
  expect(namesFix(reason.message)).toBe(true);

  const srv = await startSSE({ heartbeatMs: 0 });
  const client = await connect(srv.port);
  const { stream } = await srv.opened.next();
  await client.waitForHead();
  client.destroy();
  await once(stream, 'close');
  expect((stream.closeReason as SSEError).code).toBe('SSE_CLIENT_GONE');
  expect(namesFix(stream.closeReason!.message)).toBe(true);
});
