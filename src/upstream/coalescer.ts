import type { GiveUpSignal } from '../request/lifetime.ts';

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
  run<T>(key: string, signal: GiveUpSignal, start: (signal: AbortSignal) => Promise<T>, gaveUp: () => Error): Promise<T>;
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

interface Waiter {
  settle(outcome: Outcome): void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

interface Shared {
  readonly controller: AbortController;
  readonly waiters: Set<Waiter>;
  done: boolean;
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

  function settle(entry: Shared, key: string, outcome: Outcome): void {
    entry.done = true;
    // New callers start a call of their own from now on, while these are still being woken.
    if (calls.get(key) === entry) calls.delete(key);
    if (entry.waiters.size === 1) {
      // The usual case (apps ask for their own devices): nobody else to wake.
      const [waiter] = entry.waiters;
      entry.waiters.clear();
      waiter!.settle(outcome);
      return;
    }
    const waiting = [...entry.waiters];
    entry.waiters.clear();
    let next = 0;
    const wake = () => {
      const end = Math.min(next + WAKE_BATCH, waiting.length);
      for (; next < end; next += 1) waiting[next]!.settle(outcome);
      if (next < waiting.length) setImmediate(wake);
    };
    wake();
  }

  return {
    run<T>(key: string, signal: GiveUpSignal, start: (signal: AbortSignal) => Promise<T>, gaveUp: () => Error): Promise<T> {
      if (signal.aborted) return Promise.reject(gaveUp());
      let shared = calls.get(key);
      if (!shared) {
        const entry: Shared = { controller: new AbortController(), waiters: new Set(), done: false };
        calls.set(key, entry);
        let started: Promise<T>;
        try {
          started = start(entry.controller.signal);
        } catch (error) {
          started = Promise.reject(error);
        }
        started.then(
          (value) => settle(entry, key, { ok: true, value }),
          (error: unknown) => settle(entry, key, { ok: false, error }),
        );
        shared = entry;
      }
      const joined = shared;
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          settle(outcome) {
            signal.removeEventListener('abort', onAbort);
            if (outcome.ok) resolve(outcome.value as T);
            else reject(outcome.error);
          },
        };
        const onAbort = () => {
          // Waiting for a later batch, the answer is here already; giving up still wins.
          joined.waiters.delete(waiter);
          if (!joined.done && joined.waiters.size === 0) {
            // Nobody is waiting any more: stop the call, and let a new caller start afresh.
            if (calls.get(key) === joined) calls.delete(key);
            joined.controller.abort();
          }
          reject(gaveUp());
        };
        joined.waiters.add(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
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
