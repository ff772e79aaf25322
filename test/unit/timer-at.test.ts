import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { timerAt } from '../../src/live/timer-at.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

it('fires at the time given, not before, even beyond setTimeout’s longest delay (a token valid for months)', () => {
  const fire = vi.fn();
  const at = 40 * 24 * 3600_000; // 40 days: more than 2^31 - 1 ms
  timerAt(at, fire);
  vi.advanceTimersByTime(at - 1);
  expect(fire).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  expect(fire).toHaveBeenCalledTimes(1);
});

it('fires at once for a time already past, never for an infinite one, and not once cancelled', () => {
  const past = vi.fn();
  timerAt(-1, past);
  expect(past).toHaveBeenCalledTimes(1);
  const never = vi.fn();
  timerAt(Number.POSITIVE_INFINITY, never);
  const cancelled = vi.fn();
  timerAt(1_000, cancelled)();
  vi.advanceTimersByTime(10_000);
  expect(never).not.toHaveBeenCalled();
  expect(cancelled).not.toHaveBeenCalled();
});
