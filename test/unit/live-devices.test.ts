import { describe, expect, it, vi } from 'vitest';
import type { Caller } from '../../src/callers/caller.ts';
import { FacadeError } from '../../src/errors.ts';
import { createLatestQueue } from '../../src/live/latest-queue.ts';
import { createLiveDevices, type DeviceEvent, type UpstreamCredential } from '../../src/live/live-devices.ts';
import type { LiveFleet } from '../../src/live/live-fleet.ts';
import { createLogger } from '../../src/logger.ts';
import { seedDevice } from '../../tools/standin/data.ts';
import { type Device, device as deviceSchema } from '../../src/upstream/types.ts';

const logger = createLogger('silent');
const trusted: Caller = { kind: 'trusted', key: 'ip:1' };
const credential = (key: string): UpstreamCredential => ({ key, authorize: (call) => call(`token-of-${key}`) });
const device = (modelName: string, referenceId = seedDevice.reference_id) =>
  deviceSchema.parse({ ...seedDevice, model_name: modelName, reference_id: referenceId });
const user = (subject: string): Caller => ({
  kind: 'user',
  key: `sub:${subject}`,
  subject,
  scopes: new Set(),
  references: [subject],
  locations: [],
  acceptedUntil: Number.POSITIVE_INFINITY,
});
const settings = { pollIntervalMs: 10, maxErrors: 2, maxPerCaller: 5, maxTotal: 10, pollTimeoutMs: 1_000 };

describe('latest queue', () => {
  it('keeps only the newest waiting device, but never drops the final error', async () => {
    const closed = vi.fn();
    const queue = createLatestQueue<DeviceEvent>((event) => 'device' in event, closed);
    queue.push({ device: device('v1') });
    queue.push({ device: device('v2') });
    queue.push({ device: device('v3') });
    queue.push({ error: new FacadeError('NOT_FOUND', 'gone') });
    queue.end();
    const events = [];
    for await (const event of queue) events.push('device' in event ? event.device.model_name : event.error.code);
    expect(events).toEqual(['v3', 'NOT_FOUND']);
    expect(closed).toHaveBeenCalledTimes(1);
  });
});

describe('live devices', () => {
  it('keeps one poller per credential and device: pass-through tokens never share answers', async () => {
    const polls: string[] = [];
    const live = createLiveDevices({
      settings,
      logger,
      poll: (cred, id) => {
        polls.push(`${cred.key}:${id}`);
        return Promise.resolve(device(`seen with ${cred.key}`));
      },
    });
    const signal = new AbortController().signal;
    const a = await live.watch({
      id: seedDevice.id,
      caller: { kind: 'flatpeak', key: 'token:a', token: 'a' },
      credential: credential('token:a'),
      signal,
    });
    const a2 = await live.watch({
      id: seedDevice.id,
      caller: { kind: 'flatpeak', key: 'token:a', token: 'a' },
      credential: credential('token:a'),
      signal,
    });
    const b = await live.watch({
      id: seedDevice.id,
      caller: { kind: 'flatpeak', key: 'token:b', token: 'b' },
      credential: credential('token:b'),
      signal,
    });
    expect(live.pollers).toBe(2);
    expect(live.subscriptions).toBe(3);
    const first = async (events: AsyncIterableIterator<DeviceEvent>) => {
      const { value } = (await events.next()) as IteratorYieldResult<DeviceEvent>;
      return 'device' in value ? value.device.model_name : value.error.code;
    };
    expect([await first(a), await first(a2), await first(b)]).toEqual(['seen with token:a', 'seen with token:a', 'seen with token:b']);
    await a.return!();
    expect(live.pollers).toBe(2);
    await a2.return!();
    await b.return!();
    expect(live.pollers).toBe(0);
    expect(live.subscriptions).toBe(0);
    expect(new Set(polls)).toEqual(new Set([`token:a:${seedDevice.id}`, `token:b:${seedDevice.id}`]));
  });

  it('answers a failed first fetch with the error and keeps no poller for it', async () => {
    const live = createLiveDevices({
      settings,
      logger,
      poll: () => Promise.reject(new FacadeError('UPSTREAM_UNAVAILABLE', 'down', { status: 503 })),
    });
    await expect(
      live.watch({ id: seedDevice.id, caller: trusted, credential: credential('service'), signal: new AbortController().signal }),
    ).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect(live.pollers).toBe(0);
    expect(live.subscriptions).toBe(0);
  });

  it('gives a subscription that is cancelled while waiting for its first answer its place back', async () => {
    let answer!: (value: ReturnType<typeof device>) => void;
    const live = createLiveDevices({ settings, logger, poll: () => new Promise((resolve) => (answer = resolve)) });
    const leaving = new AbortController();
    const watching = live.watch({ id: seedDevice.id, caller: trusted, credential: credential('service'), signal: leaving.signal });
    leaving.abort();
    await expect(watching).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(live.subscriptions).toBe(0);
    expect(live.pollers).toBe(0);
    answer(device('late')); // the stopped poller ignores it
  });

  it('keeps no poller for a subscription it refuses, whatever the reason', async () => {
    vi.useFakeTimers();
    try {
      const answers: Record<string, () => Promise<ReturnType<typeof device>>> = {
        dev_theirs: () => Promise.resolve(device('theirs', 'bob')),
        dev_missing: () =>
          Promise.reject(new FacadeError('NOT_FOUND', 'Flatpeak has no device dev_missing', { status: 404, code: 'device_not_found' })),
        dev_malformed: () =>
          Promise.reject(
            new FacadeError(
              'UPSTREAM_BAD_RESPONSE',
              'Flatpeak sent device dev_malformed in an unexpected shape',
              { status: 200 },
              { received: { reference_id: 'bob' } },
            ),
          ),
      };
      const polls: string[] = [];
      const live = createLiveDevices({
        settings,
        logger,
        poll: (_credential, id) => {
          polls.push(id);
          return answers[id]!();
        },
      });
      for (const id of Object.keys(answers)) {
        await expect(
          live.watch({ id, caller: user('alice'), credential: credential('service'), signal: new AbortController().signal }),
        ).rejects.toBeInstanceOf(FacadeError);
      }
      expect(live.pollers).toBe(0);
      expect(live.subscriptions).toBe(0);
      await vi.advanceTimersByTimeAsync(settings.pollIntervalMs * 10);
      expect(polls).toEqual(Object.keys(answers)); // one poll each, none after the refusal
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps polling for a subscriber that joined together with one it refuses', async () => {
    vi.useFakeTimers();
    try {
      const answers: Array<(value: ReturnType<typeof device>) => void> = [];
      const live = createLiveDevices({ settings, logger, poll: () => new Promise((resolve) => answers.push(resolve)) });
      const signal = new AbortController().signal;
      // Both wait for the same first answer; the refused one is woken first.
      const stranger = live.watch({ id: seedDevice.id, caller: user('bob'), credential: credential('service'), signal });
      const owner = live.watch({ id: seedDevice.id, caller: user('alice'), credential: credential('service'), signal });
      answers[0]!(device('v1', 'alice'));
      await expect(stranger).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const events = await owner;
      expect(live.pollers).toBe(1);
      expect((await events.next()).value).toMatchObject({ device: { model_name: 'v1' } });
      await vi.advanceTimersByTimeAsync(settings.pollIntervalMs);
      answers[1]!(device('v2', 'alice'));
      expect((await events.next()).value).toMatchObject({ device: { model_name: 'v2' } });
      await events.return!();
      expect(live.pollers).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('live devices in a fleet (a LiveFleet stand-in: lease and push in memory)', () => {
  /** Two replicas' worth of fleet: one lease per device, and announcements to every listener. */
  function memoryFleet() {
    const leases = new Map<string, string>();
    const listeners = new Map<string, Set<(device: Device) => void>>();
    let redisDown = false;
    const replica = (name: string): LiveFleet => {
      const mine = new Map<string, (device: Device) => void>();
      return {
        claim: (key, id) => {
          if (redisDown) return Promise.resolve({ poll: true });
          const holder = leases.get(`${key}:${id}`);
          if (holder === undefined) leases.set(`${key}:${id}`, name);
          return Promise.resolve({ poll: (holder ?? name) === name });
        },
        release: (key, id) => {
          if (leases.get(`${key}:${id}`) === name) leases.delete(`${key}:${id}`);
        },
        announce: (key, announced) => {
          for (const onDevice of listeners.get(`${key}:${announced.id}`) ?? []) onDevice(announced);
        },
        listen: (key, id, onDevice) => {
          mine.set(`${key}:${id}`, onDevice);
          listeners.set(`${key}:${id}`, (listeners.get(`${key}:${id}`) ?? new Set()).add(onDevice));
        },
        unlisten: (key, id) => {
          listeners.get(`${key}:${id}`)?.delete(mine.get(`${key}:${id}`)!);
        },
        close() {},
      };
    };
    return { replica, leases, setRedisDown: (down: boolean) => (redisDown = down) };
  }

  it('polls on the lease holder only, pushes what it finds to the other, and hands over when the holder’s last subscriber leaves', async () => {
    const fleet = memoryFleet();
    const polls = { a: 0, b: 0 };
    let current = device('v1');
    const replica = (name: 'a' | 'b') =>
      createLiveDevices({
        settings,
        logger,
        fleet: fleet.replica(name),
        poll: () => {
          polls[name] += 1;
          return Promise.resolve(current);
        },
      });
    const [a, b] = [replica('a'), replica('b')];
    const watching = new AbortController();
    const onA = await a.watch({ id: seedDevice.id, caller: trusted, credential: credential('service'), signal: watching.signal });
    const onB = await b.watch({
      id: seedDevice.id,
      caller: trusted,
      credential: credential('service'),
      signal: new AbortController().signal,
    });
    expect((await onA.next()).value).toMatchObject({ device: { model_name: 'v1' } });
    expect((await onB.next()).value).toMatchObject({ device: { model_name: 'v1' } });
    expect(fleet.leases.get(`service:${seedDevice.id}`)).toBe('a');

    // Many intervals: b fetched its first version and nothing since; a's polls find the change, b gets it pushed.
    const first = polls.b;
    await vi.waitFor(() => expect(polls.a).toBeGreaterThan(5));
    current = device('v2');
    expect((await onB.next()).value).toMatchObject({ device: { model_name: 'v2' } });
    expect(polls.b).toBe(first);

    // a's last subscriber leaves: a stops and releases, b takes the lease and polls.
    watching.abort();
    await vi.waitFor(() => expect(fleet.leases.get(`service:${seedDevice.id}`)).toBe('b'));
    const stopped = polls.a;
    await vi.waitFor(() => expect(polls.b).toBeGreaterThan(first + 5));
    expect(polls.a).toBe(stopped);
    b.close();
    a.close();
  });

  it('polls on every replica while the fleet is unreachable (claim answers "poll")', async () => {
    const fleet = memoryFleet();
    fleet.setRedisDown(true);
    const polls = { a: 0, b: 0 };
    const replica = (name: 'a' | 'b') =>
      createLiveDevices({
        settings,
        logger,
        fleet: fleet.replica(name),
        poll: () => {
          polls[name] += 1;
          return Promise.resolve(device('v1'));
        },
      });
    const [a, b] = [replica('a'), replica('b')];
    for (const live of [a, b]) {
      await live.watch({ id: seedDevice.id, caller: trusted, credential: credential('service'), signal: new AbortController().signal });
    }
    await vi.waitFor(() => expect(Math.min(polls.a, polls.b)).toBeGreaterThan(5));
    a.close();
    b.close();
  });

  it('sends a write offered on one replica to the other replica’s subscribers', async () => {
    const fleet = memoryFleet();
    const replica = (name: string) =>
      createLiveDevices({ settings, logger, fleet: fleet.replica(name), poll: () => Promise.resolve(device('v1')) });
    const [a, b] = [replica('a'), replica('b')];
    const onB = await b.watch({
      id: seedDevice.id,
      caller: trusted,
      credential: credential('service'),
      signal: new AbortController().signal,
    });
    expect((await onB.next()).value).toMatchObject({ device: { model_name: 'v1' } });
    a.offer('service', device('written through a'));
    expect((await onB.next()).value).toMatchObject({ device: { model_name: 'written through a' } });
    a.close();
    b.close();
  });
});
