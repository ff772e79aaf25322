import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import type { FailureReason, ReportDependencyFailure } from './telemetry/dependency-failures.ts';

export interface RedisOptions {
  readonly logger: Logger;
  /** Told of each failed connection attempt (logged, throttled, and counted). */
  readonly onFailure: ReportDependencyFailure;
}

/**
 * The connection to the Redis that replicas share (REDIS_URL). Shared state is an
 * optimisation, never a dependency: commands fail fast while Redis is away (no offline
 * queue, a short timeout) and callers fall back to what they can do in process, while
 * ioredis reconnects in the background.
 */
export function connectRedis(url: URL, { logger, onFailure }: RedisOptions): Redis {
  const redis = new Redis(url.href, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 250,
    connectTimeout: 2_000,
    // Reconnect for ever, at most every 2 s: Redis coming back ends the degraded mode.
    retryStrategy: (attempt) => Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)),
    keyPrefix: 'flatpeak-graph:',
  });
  // One line each way of an outage, whatever its failures (those are counted, and logged per reason).
  let connected = false;
  redis.on('ready', () => {
    connected = true;
    logger.info({ redis: url.host }, 'connected to Redis: cache, APQ, rate limits and live devices are shared');
  });
  // 'reconnecting', not 'close': a disconnect at shutdown is no outage.
  redis.on('reconnecting', () => {
    if (!connected) return;
    connected = false;
    logger.warn({ redis: url.host }, 'lost the connection to Redis: this replica serves on its own until it is back');
  });
  // Every failed attempt (one every 2 s while Redis is away) is counted; the log says it once a minute.
  redis.on('error', redisFailures(redis, onFailure));
  return redis;
}

/** Reports a failure of `redis`, of its connection or of a command, with its reason and host (never the URL: it may hold a password). */
export function redisFailures(redis: Redis, onFailure: ReportDependencyFailure): (error: unknown) => void {
  const { host, port, path } = redis.options;
  const where = path ?? `${host}:${port}`;
  return (error) => onFailure({ dependency: 'redis', reason: redisFailureReason(redis, error), error, details: { redis: where } });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

function redisFailureReason(redis: Redis, error: unknown): FailureReason {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && UNREACHABLE.has(code)) return 'unreachable';
  if (code === 'ETIMEDOUT') return 'timeout';
  const message = error instanceof Error ? error.message : '';
  if (/^(NOAUTH|WRONGPASS|NOPERM)\b/.test(message)) return 'refused';
  if (message === 'Command timed out') return 'timeout'; // ioredis's, after commandTimeout
  // Commands refused at once while the connection is down ("Stream isn't writeable…").
  if (redis.status !== 'ready') return 'unreachable';
  return 'error';
}
