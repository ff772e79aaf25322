import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/**
 * The connection to the Redis that replicas share (REDIS_URL). Shared state is an
 * optimisation, never a dependency: commands fail fast while Redis is away (no offline
 * queue, a short timeout) and callers fall back to what they can do in process, while
 * ioredis reconnects in the background.
 */
export function connectRedis(url: URL, logger: Logger): Redis {
  const redis = new Redis(url.href, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 250,
    connectTimeout: 2_000,
    // Reconnect for ever, at most every 2 s: Redis coming back ends the degraded mode.
    retryStrategy: (attempt) => Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)),
    keyPrefix: 'flatpeak-graph:',
  });
  let up = false;
  redis.on('ready', () => {
    up = true;
    logger.info({ redis: url.host }, 'connected to Redis: cache, APQ and rate limits are shared');
  });
  redis.on('error', (error: Error) => {
    if (!up) return; // logged once as "unavailable" below, not on every reconnect attempt
    up = false;
    logger.warn({ redis: url.host, err: error }, 'Redis is unavailable: serving without the shared cache until it is back');
  });
  redis.on('end', () => {
    up = false;
  });
  return redis;
}
