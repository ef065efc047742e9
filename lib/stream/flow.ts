// The waiting pipe() and forward() do on an SSEStream, through its public
// API only: until the client leaves ('close'), and until the buffer drains
// ('drain') after send() returned false.
import type { PipeTarget as SSEStream } from './target';

/** The value a wait resolves to when the stream closed, told apart from anything a source yields. */
export const GONE: unique symbol = Symbol('sse-native.gone');

/**
 * Watches one stream for the length of a pipe: one 'close' listener, and at
 * most one wait at a time. Not Promise.race against a shared "closed"
 * promise: every race would leave a reaction on that promise until the
 * stream closes, one per event of a long pipe.
 */
export class Flow {
  private wake: (() => void) | undefined;
  private readonly onClose = () => {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  };

  constructor(private readonly sse: SSEStream) {
    sse.on('close', this.onClose);
  }

  /** True once the stream closed (the client left, or it was closed). */
  get gone(): boolean {
    return this.sse.closed;
  }

  /**
   * Resolves with what `p` resolves to (rejects as it rejects), or with
   * GONE as soon as the stream closes, whichever comes first.
   */
  race<T>(p: Promise<T>): Promise<T | typeof GONE> {
    if (this.sse.closed) {
      p.then(undefined, () => {}); // settled later, unobserved
      return Promise.resolve(GONE);
    }
    return new Promise<T | typeof GONE>((resolve, reject) => {
      let settled = false;
      this.wake = () => {
        settled = true;
        p.then(undefined, () => {});
        resolve(GONE);
      };
      p.then(
        (v) => {
          if (settled) return;
          this.wake = undefined;
          resolve(v);
        },
        (err) => {
          if (settled) return;
          this.wake = undefined;
          reject(err);
        },
      );
    });
  }

  /**
   * Called after send() returned false: resolves on 'drain' (undefined) or
   * 'close' (GONE), whichever comes first.
   */
  drained(): Promise<void | typeof GONE> {
    if (this.sse.closed) return Promise.resolve(GONE);
    return new Promise((resolve) => {
      const onDrain = () => {
        this.wake = undefined;
        resolve();
      };
      this.sse.once('drain', onDrain);
      this.wake = () => {
        this.sse.off('drain', onDrain);
        resolve(GONE);
      };
    });
  }

  /** Removes the listener: a stream piped many times in a row does not collect them. */
  dispose(): void {
    this.sse.off('close', this.onClose);
    this.wake = undefined;
  }
}
