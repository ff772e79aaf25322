import { FacadeError } from '../errors.ts';
import type { DeviceCache } from './cache.ts';
import type { Coalescer } from './coalescer.ts';
import type { Device } from './types.ts';
import type { GiveUpSignal } from '../request/lifetime.ts';

export interface DeviceRead {
  readonly device: Device;
  /** How long a client may keep this answer (ms); 0 when it came straight from Flatpeak uncached. */
  readonly maxAgeMs: number;
  /** From the cache (fresh or stale), not from a Flatpeak call made for this read. */
  readonly remembered: boolean;
}

/** What the device source reports as it works (metrics). */
export interface DeviceReadObserver {
  read(source: 'cache' | 'stale' | 'coalesced' | 'upstream'): void;
  cacheError(): void;
}

export interface DeviceSourceOptions {
  readonly coalescer: Coalescer;
  /** Off (undefined) by default: every read goes to Flatpeak. */
  readonly cache: DeviceCache | undefined;
  /** How long a freshly fetched answer is served from the cache. */
  readonly ttlMs: number;
  /** A refresh of a stale entry runs on its own, for at most this long. */
  readonly refreshDeadlineMs: number;
  readonly onCacheError?: (error: unknown) => void;
  readonly observer?: DeviceReadObserver;
  readonly now?: () => number;
}

/** Fetches one device from Flatpeak with this signal (the shared call's, not one request's). */
export type FetchDevice = (signal: GiveUpSignal) => Promise<Device>;

const gaveUp = (id: string) => () =>
  new FacadeError('UPSTREAM_TIMEOUT', `Flatpeak did not answer for device ${id} before the request's deadline`);

/**
 * Where a device read goes before Flatpeak: the cache (when on), then the call already in
 * flight for the same credential and id, if any. What comes back is Flatpeak's answer;
 * whether this caller may see it is decided afterwards, per caller.
 */
export type DeviceSource = ReturnType<typeof createDeviceSource>;

export function createDeviceSource({
  coalescer,
  cache,
  ttlMs,
  refreshDeadlineMs,
  onCacheError: reportCacheError = () => {},
  observer,
  now = Date.now,
}: DeviceSourceOptions) {
  const onCacheError = (error: unknown) => {
    observer?.cacheError();
    reportCacheError(error);
  };
  const keyOf = (credential: string, id: string) => `${credential}\u0000${id}`;

  // Reads in flight, so that a write can keep their (older) answers out of the cache.
  const reading = new Map<string, { overtaken: boolean }>();

  function fetchShared(credential: string, id: string, signal: GiveUpSignal, fetch: FetchDevice): Promise<Device> {
    const key = keyOf(credential, id);
    observer?.read(coalescer.has(key) ? 'coalesced' : 'upstream');
    // Without a cache there is nothing for a write to keep an older answer out of.
    if (!cache) return coalescer.run(key, signal, fetch, gaveUp(id));
    return coalescer.run(
      key,
      signal,
      async (shared) => {
        const read = { overtaken: false };
        reading.set(key, read);
        try {
          const device = await fetch(shared);
          if (!read.overtaken) await cache.set(credential, id, device).catch(onCacheError);
          return device;
        } catch (error) {
          if (error instanceof FacadeError && error.code === 'NOT_FOUND') await cache.delete(credential, id).catch(onCacheError);
          throw error;
        } finally {
          if (reading.get(key) === read) reading.delete(key);
        }
      },
      gaveUp(id),
    );
  }

  return {
    /**
     * Flatpeak's answer to a write: cached (when the cache is on) in place of whatever was
     * there, and a read still in flight from before the write is neither joined nor cached.
     */
    async remember(credential: string, device: Device): Promise<void> {
      const key = keyOf(credential, device.id);
      const earlier = reading.get(key);
      if (earlier) earlier.overtaken = true;
      coalescer.detach(key);
      if (cache) await cache.set(credential, device.id, device).catch(onCacheError);
    },

    /**
     * Flatpeak's answer now, past the cache and past any call in flight (which may have
     * started before a change made elsewhere): what a write is authorized on and built from.
     * The answer then replaces the cached copy, as a write's does.
     */
    async fresh(credential: string, id: string, fetch: () => Promise<Device>): Promise<Device> {
      let device: Device;
      try {
        device = await fetch();
      } catch (error) {
        if (cache && error instanceof FacadeError && error.code === 'NOT_FOUND') await cache.delete(credential, id).catch(onCacheError);
        throw error;
      }
      await this.remember(credential, device);
      return device;
    },

    /** Flatpeak's answer now, past the cache (live pollers); joins a call in flight and refreshes the cache. */
    refresh(credential: string, id: string, signal: GiveUpSignal, fetch: FetchDevice): Promise<Device> {
      return fetchShared(credential, id, signal, fetch);
    },

    read(credential: string, id: string, signal: GiveUpSignal, fetch: FetchDevice): Promise<DeviceRead> {
      // Not an async function: without a cache this runs once per device, and the call's
      // own promise, followed once, is all it needs.
      return cache ? readThroughCache(cache, credential, id, signal, fetch) : fetchShared(credential, id, signal, fetch).then(uncached);
    },
  };

  async function readThroughCache(
    cache: DeviceCache,
    credential: string,
    id: string,
    signal: GiveUpSignal,
    fetch: FetchDevice,
  ): Promise<DeviceRead> {
    const cached = await cache.get(credential, id).catch((error: unknown) => {
      onCacheError(error);
      return undefined;
    });
    const at = now();
    if (cached && at < cached.freshUntil) {
      observer?.read('cache');
      return { device: cached.device, maxAgeMs: cached.freshUntil - at, remembered: true };
    }
    if (cached) {
      observer?.read('stale');
      // Stale: answer now, refresh behind the caller's back (once, however many ask).
      if (!coalescer.has(keyOf(credential, id)))
        void fetchShared(credential, id, AbortSignal.timeout(refreshDeadlineMs), fetch).catch(() => {});
      return { device: cached.device, maxAgeMs: 0, remembered: true };
    }
    return { device: await fetchShared(credential, id, signal, fetch), maxAgeMs: ttlMs, remembered: false };
  }
}

const uncached = (device: Device): DeviceRead => ({ device, maxAgeMs: 0, remembered: false });
