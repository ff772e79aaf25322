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
