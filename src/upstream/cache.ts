import { LRUCache } from 'lru-cache';
import type { Device } from './types.ts';

/** A cached Flatpeak answer and how long it may be served. */
export interface CachedDevice {
  readonly device: Device;
  /** Epoch ms until which it is served as is. */
  readonly freshUntil: number;
  /** Epoch ms until which it may be served while a fresh copy is fetched. */
  readonly staleUntil: number;
}

/**
 * Flatpeak's device answers, per upstream credential (never shared across credentials:
 * what one token may see, another may not). Errors are never stored. In process, or in
 * Redis when REDIS_URL is set, behind this one interface.
 */
export interface DeviceCache {
  get(credential: string, id: string): Promise<CachedDevice | undefined>;
  set(credential: string, id: string, device: Device): Promise<void>;
  delete(credential: string, id: string): Promise<void>;
}

export interface CacheTimes {
  readonly ttlMs: number;
  /** After the TTL, how long a stale answer may still be served while it is refreshed. */
  readonly staleMs: number;
  readonly now?: () => number;
}

/** Bounded by bytes: every device a caller can make us fetch lands here. */
export function createMemoryDeviceCache({
  ttlMs,
  staleMs,
  now = Date.now,
  maxBytes = 32 * 1024 * 1024,
}: CacheTimes & { maxBytes?: number }): DeviceCache {
  const entries = new LRUCache<string, CachedDevice>({
    maxSize: maxBytes,
    // A device is a few hundred bytes of JSON; its objects take a few times that.
    sizeCalculation: (entry) => 512 + JSON.stringify(entry.device).length * 3,
    ttl: ttlMs + staleMs,
    ttlAutopurge: false,
  });
  const key = (credential: string, id: string) => `${credential}\u0000${id}`;
  return {
    async get(credential, id) {
      const entry = entries.get(key(credential, id));
      return entry && now() < entry.staleUntil ? entry : undefined;
    },
    async set(credential, id, device) {
      const at = now();
      entries.set(key(credential, id), { device, freshUntil: at + ttlMs, staleUntil: at + ttlMs + staleMs });
    },
    async delete(credential, id) {
      entries.delete(key(credential, id));
    },
  };
}
