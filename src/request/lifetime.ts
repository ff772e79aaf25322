/** Told when a wait is over: a function, or an object whose `handleEvent` is called (no closure needed). */
export type GiveUpListener = (() => void) | { handleEvent(): void };

/**
 * What a wait on upstream work listens to, to give up: an AbortSignal has these members,
 * and so has a `Lifetime`. Every wait on the path of an upstream call takes one.
 */
export interface GiveUpSignal {
  readonly aborted: boolean;
  /** Why it aborted (undefined until then). */
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: GiveUpListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: GiveUpListener): void;
}

/**
 * The end of some upstream work: a request's (its answer is complete, its deadline passed or
 * its client went away) or a shared call's (every caller waiting on it gave up). A plain
 * object with a set of listeners: an AbortController per request or per call, and an
 * EventTarget listener for each wait, cost a few percent of a small request's CPU
 * (docs/benchmarks.md).
 */
export class Lifetime implements GiveUpSignal {
  #ended = false;
  #reason: unknown;
  #listeners: Set<GiveUpListener> | undefined;

  get aborted(): boolean {
    return this.#ended;
  }

  get reason(): unknown {
    return this.#reason;
  }

  // Listeners are called once at most whatever the options: the lifetime ends once.
  addEventListener(_type: 'abort', listener: GiveUpListener): void {
    if (this.#ended) return;
    (this.#listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: 'abort', listener: GiveUpListener): void {
    // A Set: a request of 100 devices has a listener for each, removed in any order.
    this.#listeners?.delete(listener);
  }

  /** Calls every listener, as an AbortSignal would even if one throws; the first error is then thrown. */
  end(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (!listeners) return;
    let failed: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        if (typeof listener === 'function') listener();
        else listener.handleEvent();
      } catch (error) {
        failed ??= { error };
      }
    }
    if (failed) throw failed.error;
  }
}
