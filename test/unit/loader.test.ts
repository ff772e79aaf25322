import { describe, expect, it, vi } from 'vitest';
import { FacadeError } from '../../src/errors.ts';
import { createDeviceLoader } from '../../src/loaders/device-loader.ts';
import type { Device } from '../../src/upstream/types.ts';

const device = (id: string) => ({ id }) as Device;

describe('device loader', () => {
  it('collects loads of one tick into one batch and fetches each id once', async () => {
    const fetch = vi.fn(async (id: string) => device(id));
    const loader = createDeviceLoader(fetch);
    const results = await Promise.all(['dev_a', 'dev_b', 'dev_a', 'dev_a', 'dev_c'].map((id) => loader.load(id)));
    expect(results.map((result) => result.id)).toEqual(['dev_a', 'dev_b', 'dev_a', 'dev_a', 'dev_c']);
    expect(fetch.mock.calls.map(([id]) => id)).toEqual(['dev_a', 'dev_b', 'dev_c']);
  });

  it('starts all fetches of a batch before any finishes', async () => {
    const started: string[] = [];
    const gates: Array<() => void> = [];
    const loader = createDeviceLoader(
      (id) =>
        new Promise((resolve) => {
          started.push(id);
          gates.push(() => resolve(device(id)));
        }),
    );
    const all = Promise.all(['dev_1', 'dev_2', 'dev_3'].map((id) => loader.load(id)));
    await vi.waitFor(() => expect(started).toEqual(['dev_1', 'dev_2', 'dev_3']));
    for (const open of gates) open();
    expect(await all).toHaveLength(3);
  });

  it('settles each load when its own fetch does, not when the whole batch has', async () => {
    const gates = new Map<string, () => void>();
    const loader = createDeviceLoader((id) => new Promise((resolve) => gates.set(id, () => resolve(device(id)))));
    const fast = loader.load('dev_fast');
    const slow = loader.load('dev_slow');
    await vi.waitFor(() => expect([...gates.keys()]).toEqual(['dev_fast', 'dev_slow']));
    gates.get('dev_fast')!();
    // dev_slow's fetch is still open here: dev_fast does not wait for it.
    expect((await fast).id).toBe('dev_fast');
    gates.get('dev_slow')!();
    expect((await slow).id).toBe('dev_slow');
  });

  it('fails only the items that failed, and never fetches an invalid id', async () => {
    const fetch = vi.fn(async (id: string) => {
      if (id === 'dev_missing') throw new FacadeError('NOT_FOUND', 'missing');
      return device(id);
    });
    const loader = createDeviceLoader(fetch);
    const results = await Promise.allSettled(['dev_ok', 'dev_missing', 'DEV_upper', 'dev_ok2'].map((id) => loader.load(id)));
    expect(results.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as FacadeError).code))).toEqual([
      'ok',
      'NOT_FOUND',
      'BAD_USER_INPUT',
      'ok',
    ]);
    expect(fetch.mock.calls.map(([id]) => id)).toEqual(['dev_ok', 'dev_missing', 'dev_ok2']);
  });

  it('stops fetching past the per-request cap of distinct devices, across batches', async () => {
    const fetch = vi.fn(async (id: string) => device(id));
    const loader = createDeviceLoader(fetch, { maxDevices: 3 });
    const first = await Promise.allSettled(['dev_1', 'dev_2', 'dev_1'].map((id) => loader.load(id)));
    expect(first.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const second = await Promise.allSettled(['dev_3', 'dev_4', 'dev_2'].map((id) => loader.load(id)));
    expect(second.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as FacadeError).code))).toEqual([
      'ok',
      'BAD_USER_INPUT',
      'ok', // cached: already loaded, so not a new device
    ]);
    expect(fetch.mock.calls.map(([id]) => id)).toEqual(['dev_1', 'dev_2', 'dev_3']);
  });
});
