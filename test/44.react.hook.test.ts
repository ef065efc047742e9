/**
 * @jest-environment jsdom
 */
// useEventSource under jsdom with React Testing Library, against a real
// node:http server on 127.0.0.1 (createSSEStream, adopted sockets) and
// sse-native's Node EventSource; a fake EventSource for the error paths.
// No JSX: React.createElement.
import * as http from 'node:http';
import { StrictMode, createElement as h } from 'react';
import { act, cleanup as unmountAll, render, waitFor } from '@testing-library/react';
import { EventSource as NodeEventSource } from '../lib/node-client';
import { useEventSource, type EventSourceConstructor, type TypedEventSourceResult, type UseEventSourceOptions, type UseEventSourceResult } from '../lib/react/index';
import { createSSEStream, type SSEStream } from '../lib/index';
import { BOUND_MS, Queue, countCloses, listen, useTestEnv, within } from './helpers/server';

const ES = NodeEventSource as unknown as EventSourceConstructor;

// jsdom gives the test window its own Uint8Array, but Node's sockets hand out
// Buffers of Node's realm, and the parser checks `instanceof Uint8Array`:
// use Node's here (in a browser, fetch gives the page's own).
(globalThis as { Uint8Array: unknown }).Uint8Array = Object.getPrototypeOf(Buffer.prototype).constructor;

// Updates come from the network, outside act(): tell React this is not an act() environment.
beforeAll(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
});
useTestEnv(async () => {
  unmountAll();
  // The last unmount closes the shared connection a turn later.
  await new Promise((r) => setTimeout(r, 5));
});

interface Server {
  url: (path?: string) => string;
  opened: Queue<SSEStream>;
  connections: () => number;
}

async function start(retry?: number): Promise<Server> {
  const opened = new Queue<SSEStream>();
  let connections = 0;
  const srv = await listen(
    http.createServer((req, res) => {
      connections++;
      opened.push(createSSEStream(req, res, { retry }));
    }),
  );
  return { url: (p = '/events') => `http://127.0.0.1:${srv.port}${p}`, opened, connections: () => connections };
}

/** Renders components that each call the hook; `seen[i]` is the latest result of the i-th one. */
function mount(
  specs: { url: string | null; options?: UseEventSourceOptions }[],
  strict = true,
): { seen: UseEventSourceResult[]; rerender: (s: typeof specs) => void; unmount: () => void } {
  const seen: UseEventSourceResult[] = [];
  const Probe = ({ i, url, options }: { i: number; url: string | null; options?: UseEventSourceOptions }) => {
    seen[i] = useEventSource(url, { EventSource: ES, ...options });
    return null;
  };
  const tree = (s: typeof specs) => {
    const kids = s.map((spec, i) => h(Probe, { key: i, i, ...spec }));
    return strict ? h(StrictMode, null, ...kids) : h('div', null, ...kids);
  };
  const r = render(tree(specs));
  return { seen, rerender: (s) => r.rerender(tree(s)), unmount: r.unmount };
}

const until = (pred: () => void) => waitFor(pred, { timeout: BOUND_MS });

describe('useEventSource (jsdom, a real server)', () => {
  test('connects once under StrictMode; every event of a burst reaches onMessage; data holds the latest', async () => {
    const srv = await start();
    const got: [string, unknown, string][] = [];
    let opens = 0;
    const { seen } = mount([
      {
        url: srv.url(),
        options: {
          events: ['chunk', 'error'],
          onMessage: (e, data) => got.push([e.type, data, e.lastEventId]),
          onOpen: () => opens++,
        },
      },
    ]);
    expect(seen[0].readyState).toBe(0);
    const sse = await srv.opened.next();
    await until(() => expect(seen[0].isConnected).toBe(true));
    const expected: [string, unknown, string][] = [];
    for (let i = 1; i <= 200; i++) {
      sse.send({ event: 'chunk', id: String(i), data: { n: i } });
      expected.push(['chunk', { n: i }, String(i)]);
    }
    sse.send({ data: '[DONE]' });
    expected.push(['message', '[DONE]', '200']);
    sse.send({ event: 'error', data: { message: 'named error event' } });
    expected.push(['error', { message: 'named error event' }, '200']);
    sse.send({ event: 'other', data: 'not listened to' });
    sse.send({ id: 'z', data: 'plain "text"' });
    expected.push(['message', 'plain "text"', 'z']);
    await until(() => expect(got).toHaveLength(expected.length));
    expect(got).toEqual(expected);
    await until(() => expect(seen[0].data).toBe('plain "text"'));
    expect(seen[0].lastEventId).toBe('z');
    expect(seen[0].error).toBeNull();
    expect(opens).toBe(1);
    expect(srv.connections()).toBe(1);
  });

  test('json: true: only the listed names, typed events with decoded data in onEvent and `event`', async () => {
    type Events = { progress: { pct: number }; done: string };
    const srv = await start();
    const got: unknown[] = [];
    let latest: TypedEventSourceResult<Events> | undefined;
    const Probe = () => {
      latest = useEventSource<Events>(srv.url(), {
        EventSource: ES,
        json: true,
        events: ['progress', 'done'],
        onEvent: (ev) => got.push(ev.event === 'progress' ? ev.data.pct : ev.data),
      });
      return null;
    };
    render(h(StrictMode, null, h(Probe)));
    const sse = await srv.opened.next();
    await until(() => expect(latest!.isConnected).toBe(true));
    sse.send({ data: 'unnamed: not listed' });
    sse.send({ event: 'progress', data: { pct: 40 }, id: '7' });
    sse.send({ event: 'other', data: 'not listed' });
    sse.send({ event: 'done', data: 'ok' });
    await until(() => expect(got).toEqual([40, 'ok']));
    await until(() => expect(latest!.event).toEqual({ event: 'done', data: 'ok', id: '7' }));
    expect(latest!.data).toBe('ok');
  });

  test('components on one URL share a connection; the last unmount closes it', async () => {
    const srv = await start();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const { seen, rerender, unmount } = mount([
      { url: srv.url(), options: { onMessage: (_e, d) => a.push(d) } },
      { url: srv.url(), options: { onMessage: (_e, d) => b.push(d) } },
    ]);
    const sse = await srv.opened.next();
    const closes = countCloses(sse);
    await until(() => expect(seen.map((s) => s.isConnected)).toEqual([true, true]));
    sse.send({ data: { to: 'both' } });
    await until(() => expect([a.length, b.length]).toEqual([1, 1]));
    expect(srv.connections()).toBe(1);

    // The first leaves: the second keeps the connection.
    rerender([{ url: null }, { url: srv.url(), options: { onMessage: (_e, d) => b.push(d) } }]);
    sse.send({ data: 'only b' });
    await until(() => expect(b).toEqual([{ to: 'both' }, 'only b']));
    expect(a).toEqual([{ to: 'both' }]);
    expect(seen[0].readyState).toBe(2);
    expect(sse.closed).toBe(false);

    unmount();
    await within(new Promise((r) => sse.once('close', r)), 'the server to see the connection close');
    expect(closes.count()).toBe(1);
    expect(srv.connections()).toBe(1);
  });

  test('different URLs get different connections', async () => {
    const srv = await start();
    const { seen } = mount([{ url: srv.url('/events?room=1') }, { url: srv.url('/events?room=2') }]);
    await srv.opened.next();
    await srv.opened.next();
    await until(() => expect(seen.every((s) => s.isConnected)).toBe(true));
    expect(srv.connections()).toBe(2);
  });

  test("close(): onClose, readyState CLOSED, the others on the URL keep theirs; parse: 'text'", async () => {
    const srv = await start();
    let closed = 0;
    const b: unknown[] = [];
    const { seen } = mount([
      { url: srv.url(), options: { onClose: () => closed++ } },
      { url: srv.url(), options: { parse: 'text', onMessage: (_e, d) => b.push(d) } },
    ]);
    const sse = await srv.opened.next();
    await until(() => expect(seen.map((s) => s.isConnected)).toEqual([true, true]));
    act(() => seen[0].close());
    expect(closed).toBe(1);
    expect(seen[0].readyState).toBe(2);
    expect(seen[0].isConnected).toBe(false);
    sse.send({ data: { n: 1 } });
    await until(() => expect(b).toEqual(['{"n":1}']));
    expect(seen[0].data).toBeNull();
    expect(seen[1].data).toBe('{"n":1}');
    act(() => seen[1].close());
    await within(new Promise((r) => sse.once('close', r)), 'the connection to close after the last close()');
  });
});

// A controllable EventSource for what a real server rarely does.
class FakeEventSource extends EventTarget {
  static made: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  constructor(
    readonly url: string,
    readonly init?: { withCredentials?: boolean },
  ) {
    super();
    FakeEventSource.made.push(this);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  open(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }
  fail(readyState: number): void {
    this.readyState = readyState;
    this.dispatchEvent(new Event('error'));
  }
}
const Fake = FakeEventSource as unknown as EventSourceConstructor;

describe('useEventSource (jsdom, a fake EventSource)', () => {
  beforeEach(() => {
    FakeEventSource.made = [];
  });

  test('withCredentials is part of the key; null URL connects nothing', () => {
    const { seen } = mount([
      { url: 'http://x/e', options: { EventSource: Fake } },
      { url: 'http://x/e', options: { EventSource: Fake, withCredentials: true } },
      { url: 'http://x/e', options: { EventSource: Fake } },
      { url: null, options: { EventSource: Fake } },
    ]);
    expect(FakeEventSource.made.map((f) => [f.url, f.init?.withCredentials])).toEqual([
      ['http://x/e', false],
      ['http://x/e', true],
    ]);
    expect(seen[3].readyState).toBe(2);
  });

  test('an error while reconnecting sets error; a give-up closes: onError, onClose, readyState 2', async () => {
    const errors: unknown[] = [];
    let closes = 0;
    let opens = 0;
    const { seen } = mount([
      { url: 'http://x/e', options: { EventSource: Fake, onError: (e) => errors.push(e), onClose: () => closes++, onOpen: () => opens++ } },
    ]);
    const es = FakeEventSource.made[0];
    act(() => es.open());
    expect(seen[0].isConnected).toBe(true);
    act(() => es.fail(0));
    expect(seen[0].readyState).toBe(0);
    expect(seen[0].error).toBeInstanceOf(Event);
    act(() => es.open());
    expect(seen[0].error).toBeNull();
    expect(opens).toBe(2);
    act(() => es.fail(2));
    expect(seen[0].readyState).toBe(2);
    expect(errors).toHaveLength(2);
    expect(closes).toBe(1);
    await act(() => new Promise((r) => setTimeout(r, 5)));
    expect(es.closed).toBe(true);
  });

  test('joining an open connection reports open at once', () => {
    let opens = 0;
    const first = mount([{ url: 'http://x/j', options: { EventSource: Fake } }], false);
    act(() => FakeEventSource.made[0].open());
    const second = mount([{ url: 'http://x/j', options: { EventSource: Fake, onOpen: () => opens++ } }], false);
    expect(FakeEventSource.made).toHaveLength(1);
    expect(second.seen[0].isConnected).toBe(true);
    expect(opens).toBe(1);
    first.unmount();
    second.unmount();
  });

  test('no EventSource anywhere: an Error, no throw', () => {
    const errors: unknown[] = [];
    const Probe = () => {
      const r = useEventSource('http://x/none', { onError: (e) => errors.push(e) });
      return h('span', null, r.error ? (r.error as Error).message : 'none');
    };
    const { container } = render(h(Probe));
    expect(container.textContent).toMatch(/no EventSource here/);
    expect(errors).toHaveLength(1);
  });
});
