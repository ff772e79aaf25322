import type { GiveUpSignal } from './lifetime.ts';

/**
 * Device loads in the process at once, whichever requests they belong to. Each load holds
 * a few KB until its request ends (its promise chain, its place in a queue or among a
 * shared call's waiters, then the device itself), and a request may make up to
 * MAX_DEVICES_PER_REQUEST of them: bounding requests alone would not bound the heap. A
 * load past the budget fails at once, so the request it belongs to ends soon and gives
 * back what it took.
 */
export interface LoadBudget {
  /** One load more, if the budget has room. */
  take(): boolean;
  give(count: number): void;
  readonly used: number;
}

export function createLoadBudget(max: number): LoadBudget {
  let used = 0;
  return {
    take() {
      if (used >= max) return false;
      used += 1;
      return true;
    },
    give(count) {
      used -= count;
    },
    get used() {
      return used;
    },
  };
}

/** Unlimited: for contexts built without one (unit tests). */
export const NO_LOAD_BUDGET: LoadBudget = { take: () => true, give: () => {}, used: 0 };

/**
 * One request's share of the budget: `take()` takes one load more for it (false when the
 * budget is spent), and everything it took is given back when its lifetime ends.
 */
export function requestShare(budget: LoadBudget, lifetime: GiveUpSignal): () => boolean {
  let held = 0;
  const giveBack = () => {
    budget.give(held);
    held = 0;
  };
  return () => {
    // An ended request's loads give up anyway, and nothing would give this one back.
    if (lifetime.aborted) return true;
    if (!budget.take()) return false;
    if (held++ === 0) lifetime.addEventListener('abort', giveBack);
    return true;
  };
}
