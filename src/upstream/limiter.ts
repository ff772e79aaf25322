/**
 * Adaptive concurrency for calls to Flatpeak: how many may be in flight is learned, not
 * fixed. AIMD as in Netflix's concurrency-limits (AIMDLimit): while calls succeed at the
 * usual latency and the limit is being used, it grows by one per success; a call that
 * Flatpeak sheds (429, 503, timeout) or that takes far longer than usual multiplies it by
 * 0.9. `maxLimit` (the connection pool) is the hard ceiling.
 *
 * Waiting calls are served round-robin between their owners (GraphQL requests), not first
 * come first served: a request that queued 200 calls does not hold back one that needs one.
 */

import type { GiveUpSignal } from '../request/lifetime.ts';
import { promiseOf } from '../promise-of.ts';

/** What a finished call says about Flatpeak's capacity. */
export type Outcome = 'ok' | 'dropped' | 'ignore';

export interface LimiterSettings {
  readonly initialLimit: number;
  readonly minLimit?: number;
  readonly maxLimit: number;
  /** Calls allowed to wait; beyond that a call is refused at once. */
  readonly maxQueue: number;
  /** A success this many times slower than the usual latency counts as a drop. */
  readonly latencyTolerance?: number;
  readonly backoffRatio?: number;
  readonly now?: () => number;
}

export interface RunOptions {
  /** Who the call is for (one GraphQL request): the unit of round-robin fairness. */
  readonly owner: object;
  /** Aborting while queued gives the place up; the call is then never started. */
  readonly signal: GiveUpSignal;
  readonly classify: (error: unknown) => Outcome;
}

export interface AdaptiveLimiter {
  run<T>(task: () => Promise<T>, options: RunOptions): Promise<T>;
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
}

export class LimiterQueueFull extends Error {
  override name = 'LimiterQueueFull';
}
export class LimiterAbandoned extends Error {
  override name = 'LimiterAbandoned';
}

interface Waiter {
  readonly start: () => void;
  readonly abandon: () => void;
}

export function createAdaptiveLimiter({
  initialLimit,
  minLimit = 1,
  maxLimit,
  maxQueue,
  latencyTolerance = 2,
  backoffRatio = 0.9,
  now = performance.now.bind(performance),
}: LimiterSettings): AdaptiveLimiter {
  let limit = Math.min(maxLimit, Math.max(minLimit, initialLimit));
  let inFlight = 0;
  let queued = 0;
  /** Smoothed latency of successful calls, ms: the "usual" latency. */
  let usualMs: number | undefined;
  // Owners with waiting calls, in round-robin order (Map keeps insertion order).
  const queues = new Map<object, Waiter[]>();

  function learn(outcome: Outcome, ms: number, inFlightAtStart: number): void {
    if (outcome === 'ignore') return;
    const slow = outcome === 'ok' && usualMs !== undefined && ms > usualMs * latencyTolerance && ms > 5;
    if (outcome === 'dropped' || slow) {
      limit = Math.max(minLimit, limit * backoffRatio);
      return;
    }
    usualMs = usualMs === undefined ? ms : usualMs * 0.95 + ms * 0.05;
    // Only a limit that is being used has earned a raise (an idle service learns nothing).
    if (inFlightAtStart * 2 >= limit) limit = Math.min(maxLimit, limit + 1);
  }

  function dispatch(): void {
    while (inFlight < Math.floor(limit) && queued > 0) {
      const [owner, waiting] = queues.entries().next().value as [object, Waiter[]];
      const next = waiting.shift()!;
      queues.delete(owner);
      if (waiting.length > 0) queues.set(owner, waiting); // to the back of the ring
      queued -= 1;
      next.start();
    }
  }

  return {
    run<T>(task: () => Promise<T>, { owner, signal, classify }: RunOptions): Promise<T> {
      if (signal.aborted) return Promise.reject(new LimiterAbandoned());
      const execute = (): Promise<T> => {
        inFlight += 1;
        const startedAt = now();
        const atStart = inFlight;
        // The slot is given back before the caller hears: the next waiting call starts now.
        const done = (outcome: Outcome) => {
          inFlight -= 1;
          learn(outcome, now() - startedAt, atStart);
          dispatch();
        };
        return promiseOf(task).then(
          (value) => {
            done('ok');
            return value;
          },
          (error: unknown) => {
            done(classify(error));
            throw error;
          },
        );
      };
      if (queued === 0 && inFlight < Math.floor(limit)) return execute();
      if (queued >= maxQueue) return Promise.reject(new LimiterQueueFull());

      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal.removeEventListener('abort', waiter.abandon);
            execute().then(resolve, reject);
          },
          abandon: () => {
            const waiting = queues.get(owner);
            const index = waiting?.indexOf(waiter) ?? -1;
            if (index < 0) return;
            waiting!.splice(index, 1);
            if (waiting!.length === 0) queues.delete(owner);
            queued -= 1;
            reject(new LimiterAbandoned());
          },
        };
        signal.addEventListener('abort', waiter.abandon, { once: true });
        const waiting = queues.get(owner);
        if (waiting) waiting.push(waiter);
        else queues.set(owner, [waiter]);
        queued += 1;
      });
    },
    get limit() {
      return limit;
    },
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return queued;
    },
  };
}
