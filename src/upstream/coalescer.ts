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
  run<T>(key: string, signal: AbortSignal, start: (signal: AbortSignal) => Promise<T>, gaveUp: () => Error): Promise<T>;
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

interface Shared {
  readonly promise: Promise<unknown>;
  readonly controller: AbortController;
  waiters: number;
}

export function createCoalescer(): Coalescer {
  const calls = new Map<string, Shared>();

  return {
    run<T>(key: string, signal: AbortSignal, start: (signal: AbortSignal) => Promise<T>, gaveUp: () => Error): Promise<T> {
      if (signal.aborted) return Promise.reject(gaveUp());
      let shared = calls.get(key);
      if (!shared) {
        const controller = new AbortController();
        const promise = start(controller.signal).finally(() => {
          if (calls.get(key) === entry) calls.delete(key);
        });
        promise.catch(() => {}); // each waiter handles the outcome; nobody may be left waiting
        const entry: Shared = { promise, controller, waiters: 0 };
        calls.set(key, entry);
        shared = entry;
      }
      const joined = shared;
      joined.waiters += 1;
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const leave = () => {
          signal.removeEventListener('abort', onAbort);
          joined.waiters -= 1;
        };
        const onAbort = () => {
          if (settled) return;
          settled = true;
          leave();
          if (joined.waiters === 0) {
            // Nobody is waiting any more: stop the call, and let a new caller start afresh.
            if (calls.get(key) === joined) calls.delete(key);
            joined.controller.abort();
          }
          reject(gaveUp());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        joined.promise.then(
          (value) => {
            if (settled) return;
            settled = true;
            leave();
            resolve(value as T);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            leave();
            reject(error);
          },
        );
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
