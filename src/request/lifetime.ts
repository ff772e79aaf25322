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
  // Most lifetimes have one listener at a time (a shared call's: its exchange); a Set is
  // made only for more (a request's: one per device), and each Set costs an allocation,
  // and more as it grows and shrinks.
  #listener: GiveUpListener | undefined;
  #listeners: Set<GiveUpListener> | undefined;

  get aborted(): boolean {
    return this.#ended;
  }

  get reason(): unknown {
    return this.#reason;
  }

  // Listeners are called once at most whatever the options: the lifetime ends once.
  addEventListener(_type: 'abort', listener: GiveUpListener): void {
    if (this.#ended || listener === this.#listener) return;
    if (this.#listener === undefined && this.#listeners === undefined) this.#listener = listener;
    else (this.#listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: 'abort', listener: GiveUpListener): void {
    if (this.#listener === listener) this.#listener = undefined;
    // A Set: a request of 100 devices has a listener for each, removed in any order.
    else this.#listeners?.delete(listener);
  }

  /** Calls every listener, as an AbortSignal would even if one throws; the first error is then thrown. */
  end(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    const first = this.#listener;
    const listeners = this.#listeners;
    this.#listener = undefined;
    this.#listeners = undefined;
    let failed: { error: unknown } | undefined;
    const call = (listener: GiveUpListener) => {
      try {
        if (typeof listener === 'function') listener();
        else listener.handleEvent();
      } catch (error) {
        failed ??= { error };
      }
    };
    if (first) call(first);
    if (listeners) for (const listener of listeners) call(listener);
    if (failed) throw failed.error;
  }
}
