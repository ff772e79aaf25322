import type { Redis } from 'ioredis';
import type { CacheTimes, CachedDevice, DeviceCache } from './cache.ts';
import { device as deviceSchema } from './types.ts';

/**
 * The device cache in Redis, shared by every replica. Devices are stored as JSON and read
 * back through the same zod schema as Flatpeak's answers (which revives the dates), so a
 * corrupt or foreign entry is a miss, not a crash.
 */
export function createRedisDeviceCache(redis: Redis, { ttlMs, staleMs, now = Date.now }: CacheTimes): DeviceCache {
  const key = (credential: string, id: string) => `device:${credential}:${id}`;
  return {
    async get(credential, id) {
      const text = await redis.get(key(credential, id));
      if (text === null) return undefined;
      let stored: { device: unknown; freshUntil: number; staleUntil: number };
      try {
        stored = JSON.parse(text) as typeof stored;
      } catch {
        return undefined;
      }
      const parsed = deviceSchema.safeParse(stored.device);
      if (!parsed.success || typeof stored.freshUntil !== 'number' || !(now() < stored.staleUntil)) return undefined;
      return { device: parsed.data, freshUntil: stored.freshUntil, staleUntil: stored.staleUntil } satisfies CachedDevice;
    },
    async set(credential, id, device) {
      const at = now();
      const value = JSON.stringify({ device, freshUntil: at + ttlMs, staleUntil: at + ttlMs + staleMs });
      await redis.set(key(credential, id), value, 'PX', ttlMs + staleMs);
    },
    async delete(credential, id) {
      await redis.del(key(credential, id));
    },
  };
}
