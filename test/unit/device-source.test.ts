import { describe, expect, it, vi } from 'vitest';
import { FacadeError } from '../../src/errors.ts';
import { createMemoryDeviceCache } from '../../src/upstream/cache.ts';
import { createCoalescer } from '../../src/upstream/coalescer.ts';
import { createDeviceSource } from '../../src/upstream/device-source.ts';
import type { Device } from '../../src/upstream/types.ts';

const device = (version: number) => ({ id: 'dev_1', reference_id: `v${version}` }) as Device;
const signal = () => new AbortController().signal;

function setup() {
  let clock = 1_000_000;
  const now = () => clock;
  const cache = createMemoryDeviceCache({ ttlMs: 10_000, staleMs: 10_000, now });
  const reads: string[] = [];
  const source = createDeviceSource({
    coalescer: createCoalescer(),
    cache,
    ttlMs: 10_000,
    refreshDeadlineMs: 1_000,
    now,
    observer: { read: (from) => reads.push(from), cacheError() {} },
  });
  return { source, reads, advance: (ms: number) => (clock += ms) };
}

describe('device source: cache with stale-while-revalidate', () => {
  it('serves a fresh answer from the cache with its remaining age, a stale one at once while one refresh runs, then fetches again', async () => {
    const { source, reads, advance } = setup();
    let version = 0;
    const fetch = vi.fn(() => Promise.resolve(device(++version)));
    expect(await source.read('service', 'dev_1', signal(), fetch)).toEqual({ device: device(1), maxAgeMs: 10_000, remembered: false });
    advance(4_000);
    expect(await source.read('service', 'dev_1', signal(), fetch)).toEqual({ device: device(1), maxAgeMs: 6_000, remembered: true });
    expect(fetch).toHaveBeenCalledTimes(1);

    advance(7_000); // stale now
    const stale = await Promise.all([source.read('service', 'dev_1', signal(), fetch), source.read('service', 'dev_1', signal(), fetch)]);
    expect(stale.map((read) => read.device)).toEqual([device(1), device(1)]);
    expect(stale.map((read) => read.maxAgeMs)).toEqual([0, 0]);
    expect(stale.map((read) => read.remembered)).toEqual([true, true]);
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(2)); // one refresh for both
    await vi.waitFor(async () => expect((await source.read('service', 'dev_1', signal(), fetch)).device).toEqual(device(2)));

    advance(25_000); // beyond TTL + stale window: a miss
    expect((await source.read('service', 'dev_1', signal(), fetch)).device).toEqual(device(3));
    expect(reads).toEqual(['upstream', 'cache', 'stale', 'upstream', 'stale', 'cache', 'upstream']);
  });

  it('never caches an error, and forgets a device Flatpeak no longer has', async () => {
    const { source, advance } = setup();
    const failing = vi.fn((): Promise<Device> => Promise.reject(new FacadeError('UPSTREAM_UNAVAILABLE', '503')));
    await expect(source.read('service', 'dev_1', signal(), failing)).rejects.toThrow('503');
    await expect(source.read('service', 'dev_1', signal(), failing)).rejects.toThrow('503');
    expect(failing).toHaveBeenCalledTimes(2);

    await source.read('service', 'dev_1', signal(), () => Promise.resolve(device(1)));
    advance(15_000); // stale: the refresh finds it gone
    const gone = vi.fn((): Promise<Device> => Promise.reject(new FacadeError('NOT_FOUND', 'gone')));
    await source.read('service', 'dev_1', signal(), gone);
    await vi.waitFor(() => expect(gone).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(source.read('service', 'dev_1', signal(), gone)).rejects.toThrow('gone'));
  });

  it('keeps credentials apart', async () => {
    const { source } = setup();
    await source.read('token:x', 'dev_1', signal(), () => Promise.resolve(device(1)));
    const other = vi.fn(() => Promise.resolve(device(2)));
    expect((await source.read('token:y', 'dev_1', signal(), other)).device).toEqual(device(2));
    expect(other).toHaveBeenCalledTimes(1);
  });
});
