/**
 * A retry budget in the manner of Finagle's: retries may add at most `ratio` of the calls
 * made in the last `windowMs`, plus a small floor so that a quiet service still retries.
 * When Flatpeak fails across the board, this caps the extra load the facade adds to
 * `ratio` instead of multiplying it by the number of attempts.
 */
export interface RetryBudget {
  /** Count a first attempt. */
  recordCall(): void;
  /** Take permission for one retry; false when the budget is spent. */
  tryRetry(): boolean;
}

export interface RetryBudgetOptions {
  readonly ratio: number;
  readonly minPerSecond?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

export function createRetryBudget({ ratio, minPerSecond = 5, windowMs = 10_000, now = Date.now }: RetryBudgetOptions): RetryBudget {
  // One bucket per second of the window, each stamped with the second it counts.
  const seconds = Math.max(1, Math.round(windowMs / 1000));
  const stamps = new Array<number>(seconds).fill(-1);
  const calls = new Array<number>(seconds).fill(0);
  const retries = new Array<number>(seconds).fill(0);

  function bucket(): number {
    const second = Math.floor(now() / 1000);
    const index = second % seconds;
    if (stamps[index] !== second) {
      stamps[index] = second;
      calls[index] = 0;
      retries[index] = 0;
    }
    return index;
  }

  function inWindow(counts: number[]): number {
    const oldest = Math.floor(now() / 1000) - seconds + 1;
    let sum = 0;
    for (let i = 0; i < seconds; i += 1) if (stamps[i]! >= oldest) sum += counts[i]!;
    return sum;
  }

  return {
    recordCall() {
      calls[bucket()]! += 1;
    },
    tryRetry() {
      const index = bucket();
      const allowed = minPerSecond * seconds + ratio * inWindow(calls);
      if (inWindow(retries) >= allowed) return false;
      retries[index]! += 1;
      return true;
    },
  };
}
