import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

export interface RateLimiter {
  /**
   * Takes `cost` tokens from `key`'s bucket: undefined if granted, else the ms until they
   * would be. In process the answer is at hand, so it is given as it is: a promise per
   * device load, where no wait is needed, is a share of a small request's CPU.
   */
  take(key: string, cost?: number): number | undefined | Promise<number | undefined>;
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
 * few lines, and its state (tokens, time) is all a shared store keeps per caller.
 */
export function createRateLimiter({
  perSecond,
  burst,
  maxCallers = 100_000,
  now = performance.now.bind(performance),
}: RateLimitOptions): RateLimiter {
  if (perSecond <= 0) return unlimited;
  const buckets = new LRUCache<string, { tokens: number; at: number }>({ max: maxCallers });
  return {
    take(key, cost = 1) {
      const t = now();
      let bucket = buckets.get(key);
      const tokens = bucket ? Math.min(burst, bucket.tokens + ((t - bucket.at) * perSecond) / 1000) : burst;
      // The caller's bucket is updated in place (get has made it the most recently used).
      if (!bucket) buckets.set(key, (bucket = { tokens, at: t }));
      bucket.at = t;
      if (tokens >= cost) {
        bucket.tokens = tokens - cost;
        return undefined;
      }
      bucket.tokens = tokens;
      return Math.ceil(((cost - tokens) * 1000) / perSecond);
    },
  };
}

// The same bucket as one atomic script in Redis, timed by Redis's clock so that replicas
// with drifting clocks agree. Returns -1 when granted, else the ms to wait.
const TAKE_TOKENS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = -1
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

/**
 * Per-caller buckets in Redis, shared by every replica, so a caller's limit does not
 * multiply with the number of replicas. While Redis is away each replica limits on its
 * own (`fallback`): degraded, never failing the request.
 */
export function createRedisRateLimiter(
  redis: Redis,
  options: RateLimitOptions,
  fallback: RateLimiter,
  onError: (error: unknown) => void,
): RateLimiter {
  if (options.perSecond <= 0) return unlimited;
  redis.defineCommand('takeTokens', { numberOfKeys: 1, lua: TAKE_TOKENS });
  const take = (
    redis as unknown as { takeTokens(key: string, rate: number, burst: number, cost: number): Promise<number> }
  ).takeTokens.bind(redis);
  return {
    async take(key, cost = 1) {
      try {
        const wait = Number(await take(`bucket:${key}`, options.perSecond, options.burst, cost));
        return wait < 0 ? undefined : wait;
      } catch (error) {
        onError(error);
        return fallback.take(key, cost);
      }
    },
  };
}
