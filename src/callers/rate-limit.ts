import { LRUCache } from 'lru-cache';

export interface RateLimiter {
  /** Takes `cost` tokens from `key`'s bucket: undefined if granted, else the ms until they would be. */
  take(key: string, cost?: number): number | undefined;
}

export interface RateLimitOptions {
  /** Tokens added per second; 0 turns limiting off. */
  readonly perSecond: number;
  /** Bucket size: what a caller may spend at once after being idle. */
  readonly burst: number;
  /** Buckets kept; the least recently used caller is forgotten (and starts full again). */
  readonly maxCallers?: number;
  readonly now?: () => number;
}

const unlimited: RateLimiter = { take: () => undefined };

/**
 * A token bucket per caller, in process. rate-limiter-flexible, the usual library, counts
 * fixed windows (a caller could spend two windows' worth at a boundary); a bucket is a
 * few lines, and its state (tokens, time) is what a shared store would keep per caller.
 */
export function createRateLimiter({ perSecond, burst, maxCallers = 100_000, now = performance.now.bind(performance) }: RateLimitOptions): RateLimiter {
  if (perSecond <= 0) return unlimited;
  const buckets = new LRUCache<string, { tokens: number; at: number }>({ max: maxCallers });
  return {
    take(key, cost = 1) {
      const t = now();
      const bucket = buckets.get(key);
      const tokens = bucket ? Math.min(burst, bucket.tokens + ((t - bucket.at) * perSecond) / 1000) : burst;
      if (tokens >= cost) {
        buckets.set(key, { tokens: tokens - cost, at: t });
        return undefined;
      }
      buckets.set(key, { tokens, at: t });
      return Math.ceil(((cost - tokens) * 1000) / perSecond);
    },
  };
}
