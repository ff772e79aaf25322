import { describe, expect, it } from 'vitest';
import { createRetryBudget } from '../../src/upstream/retry-budget.ts';

describe('retry budget', () => {
  it('allows the floor, then a share of recent calls', () => {
    const now = 0;
    const budget = createRetryBudget({ ratio: 0.1, minPerSecond: 1, windowMs: 10_000, now: () => now });
    const take = (n: number) => Array.from({ length: n }, () => budget.tryRetry()).filter(Boolean).length;
    expect(take(20)).toBe(10); // the floor: 1 per second of the window
    for (let n = 0; n < 100; n += 1) budget.recordCall();
    expect(take(20)).toBe(10); // plus 10% of 100 calls
  });

  it('forgets calls and retries older than the window', () => {
    let now = 0;
    const budget = createRetryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 2_000, now: () => now });
    for (let n = 0; n < 10; n += 1) budget.recordCall();
    expect(Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean)).toHaveLength(5);
    now = 2_000; // both old buckets have left the window
    expect(budget.tryRetry()).toBe(false);
    budget.recordCall();
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });
});
