import type { Redis } from 'ioredis';
import { SHA256_HEX, sha256Hex } from './manifest.ts';

/** APQ registrations that every replica sees: an app's hash registered at one is known at all. */
export interface SharedRegistrations {
  get(hash: string): Promise<string | null>;
  set(hash: string, document: string): void;
}

/** Long enough for an app session, short enough that abandoned documents go. */
const TTL_SECONDS = 24 * 60 * 60;

/**
 * In Redis (REDIS_URL). Bounded by size (documents over 16 KB are never registered) and by
 * age (a day). While Redis is away lookups miss, which APQ clients answer by sending the
 * document again: nothing fails. A stored document is checked against its hash on the way
 * back, so a shared store written by anyone else cannot make a hash run another document.
 */
export function createRedisRegistrations(redis: Redis, onError: (error: unknown) => void): SharedRegistrations {
  const key = (hash: string) => `apq:${hash}`;
  return {
    async get(hash) {
      if (!SHA256_HEX.test(hash)) return null;
      try {
        const document = await redis.get(key(hash));
        return document !== null && sha256Hex(document) === hash ? document : null;
      } catch (error) {
        onError(error);
        return null;
      }
    },
    set(hash, document) {
      redis.set(key(hash), document, 'EX', TTL_SECONDS).catch(onError);
    },
  };
}
