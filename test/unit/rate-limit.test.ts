import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/callers/rate-limit.ts';

describe('per-caller token bucket', () => {
  it('grants a full burst, then refills at the rate, per caller', async () => {
    let now = 0;
    const limiter = createRateLimiter({ perSecond: 20, burst: 40, now: () => now });
    for (let i = 0; i < 40; i += 1) expect(await limiter.take('a')).toBeUndefined();
    expect(await limiter.take('a')).toBe(50); // one token takes 1000/20 ms
    expect(await limiter.take('b')).toBeUndefined(); // another caller's bucket is full
    now += 100; // two tokens back
    expect(await limiter.take('a')).toBeUndefined();
    expect(await limiter.take('a')).toBeUndefined();
    expect(await limiter.take('a')).toBe(50);
    now += 60_000; // idle: back to the burst, not beyond it
    for (let i = 0; i < 40; i += 1) expect(await limiter.take('a')).toBeUndefined();
    expect(await limiter.take('a')).toBeGreaterThan(0);
  });

  it('takes several tokens at once and says how long until they would be there', async () => {
    const limiter = createRateLimiter({ perSecond: 10, burst: 5, now: () => 0 });
    expect(await limiter.take('a', 5)).toBeUndefined();
    expect(await limiter.take('a', 3)).toBe(300);
  });

  it('is off at 0 per second', async () => {
    const limiter = createRateLimiter({ perSecond: 0, burst: 1, now: () => 0 });
    for (let i = 0; i < 1000; i += 1) expect(await limiter.take('a')).toBeUndefined();
  });
});
