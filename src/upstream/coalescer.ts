import { type GiveUpSignal, Lifetime } from '../request/lifetime.ts';
import { promiseOf } from '../promise-of.ts';

/**
 * One upstream call per key in flight, however many callers wait for it (Hive Gateway
 * and Apollo Router call this in-flight deduplication). The key must include the
 * upstream credential: a result is only shared by callers who would have sent the same
 * request, and each caller still applies its own access rule to what comes back.
 *
 * The shared call has a signal of its own, aborted only when every waiter has given up:
 * one caller's disconnect or deadline does not fail the others.
 */
export interface Coalescer {
  run<T>(key: string, signal: GiveUpSignal, start: (signal: GiveUpSignal) => Promise<T>, gaveUp: () => Error): Promise<T>;
  /** Whether a call for `key` is in flight (a new caller would join it). */
  has(key: string): boolean;
  /**
   * New callers for `key` start a call of their own from now on; those already waiting keep
   * theirs. After a write, a read that started before it must not be joined.
   */
  detach(key: string): void;
  /** Calls in flight now (for tests and metrics). */
  readonly inFlight: number;
}

/** Why a shared call's signal ends (one error for all: no stack is made per call). */
const EVERYONE_GAVE_UP = new Error('every caller waiting on the call gave up');

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

interface Shared {
  readonly key: string;
  /** Ends when every caller waiting on the call has given up: the call's own signal. */
  readonly lifetime: Lifetime;
  /**
   * Who waits: nearly always one caller (apps ask for their own devices), so a Set is made
   * only for more.
   */
  waiter: Waiter | undefined;
  others: Set<Waiter> | undefined;
  done: boolean;
}

const waiting = (shared: Shared): number => (shared.waiter ? 1 : 0) + (shared.others?.size ?? 0);

/**
 * One caller waiting for a shared call. It is its signal's listener itself (`handleEvent`):
 * no closure per waiter for giving up.
 */
class Waiter {
  constructor(
    private readonly shared: Shared,
    private readonly signal: GiveUpSignal,
    private readonly resolve: (value: never) => void,
    private readonly reject: (error: unknown) => void,
    private readonly gaveUp: () => Error,
    private readonly calls: Map<string, Shared>,
  ) {
    signal.addEventListener('abort', this, { once: true });
  }

  settle(outcome: Outcome): void {
    this.signal.removeEventListener('abort', this);
    if (outcome.ok) this.resolve(outcome.value as never);
    else this.reject(outcome.error);
  }

  /** The caller gave up. Waiting for a later batch, the answer is here already; giving up still wins. */
  handleEvent(): void {
    const { shared } = this;
    if (shared.waiter === this) shared.waiter = undefined;
    else shared.others?.delete(this);
    if (!shared.done && waiting(shared) === 0) {
      // Nobody is waiting any more: stop the call, and let a new caller start afresh.
      if (this.calls.get(shared.key) === shared) this.calls.delete(shared.key);
      shared.lifetime.end(EVERYONE_GAVE_UP);
    }
    this.reject(this.gaveUp());
  }
}

/**
 * Waiters woken per event-loop turn when a shared call settles. A hot device may have a
 * hundred requests waiting on one call; answered in one go, they hold the only thread for
 * milliseconds, and requests that arrived meanwhile (those first answered, asking again)
 * cannot even start the next call until all are done. A batch per turn lets them in.
 */
export const WAKE_BATCH = 8;

export function createCoalescer(): Coalescer {
  const calls = new Map<string, Shared>();

  function settle(entry: Shared, outcome: Outcome): void {
    entry.done = true;
    // New callers start a call of their own from now on, while these are still being woken.
    if (calls.get(entry.key) === entry) calls.delete(entry.key);
    const { waiter, others } = entry;
    entry.waiter = undefined;
    entry.others = undefined;
    if (!others?.size) {
      // The usual case (apps ask for their own devices): nobody else to wake.
      waiter?.settle(outcome);
      return;
    }
    const waiters = waiter ? [waiter, ...others] : [...others];
    let next = 0;
    const wake = () => {
      const end = Math.min(next + WAKE_BATCH, waiters.length);
      for (; next < end; next += 1) waiters[next]!.settle(outcome);
      if (next < waiters.length) setImmediate(wake);
    };
    wake();
  }

  return {
    run<T>(key: string, signal: GiveUpSignal, start: (signal: GiveUpSignal) => Promise<T>, gaveUp: () => Error): Promise<T> {
      if (signal.aborted) return Promise.reject(gaveUp());
      let shared = calls.get(key);
      if (!shared) {
        const entry: Shared = { key, lifetime: new Lifetime(), waiter: undefined, others: undefined, done: false };
        calls.set(key, entry);
        promiseOf(start, entry.lifetime).then(
          (value) => settle(entry, { ok: true, value }),
          (error: unknown) => settle(entry, { ok: false, error }),
        );
        shared = entry;
      }
      const joined = shared;
      return new Promise<T>((resolve, reject) => {
        const waiter = new Waiter(joined, signal, resolve, reject, gaveUp, calls);
        if (joined.waiter === undefined && !joined.others?.size) joined.waiter = waiter;
        else (joined.others ??= new Set()).add(waiter);
      });
    },
    has: (key) => calls.has(key),
    detach(key) {
      calls.delete(key);
    },
    get inFlight() {
      return calls.size;
    },
  };
}
