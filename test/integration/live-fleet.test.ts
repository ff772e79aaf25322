import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, sampleDevices } from '../../src/standin/data.ts';
import { DEMO_API_KEY, type Standin, startStandin } from '../../src/standin/server.ts';
import { startMain, type Started } from '../support/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../support/redis.ts';
import { type SseSubscription, subscribeSse } from '../support/sse.ts';

/**
 * deviceUpdated across replicas sharing Redis: a write through one replica reaches the
 * subscribers of another by push (pub/sub), and a device watched on both is polled by one of
 * them (a lease), the other taking over when the holder goes.
 */
const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName } }';
const RENAME = 'mutation ($id: ID!, $name: String!) { updateDevice(id: $id, input: { modelName: $name }) { device { id modelName } } }';
const INTERVAL_MS = 300;

/** The device an SSE event carries. */
const updated = (event: Record<string, unknown> | undefined) =>
  (event?.data as { deviceUpdated?: { id: string; modelName: string } } | undefined)?.deviceUpdated;

describe.skipIf(redisUnavailable && !process.env.CI)('deviceUpdated across replicas (REDIS_URL)', () => {
  let redis: RedisServer;
  let standin: Standin;
  const replicas: Array<{ main: Started; url: string }> = [];
  const streams: SseSubscription[] = [];

  async function startReplica(pollIntervalMs: number): Promise<{ main: Started; url: string }> {
    const main = startMain({
      PORT: '0',
      LOG_LEVEL: 'info',
      FLATPEAK_API_URL: standin.url.href,
      FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
      FLATPEAK_API_KEY: DEMO_API_KEY,
      CALLER_AUTH: 'none',
      REDIS_URL: redis.url.href,
      DEVICE_POLL_INTERVAL_MS: String(pollIntervalMs),
      RATE_LIMIT_PER_SECOND: '0',
      SHUTDOWN_DELAY_MS: '0',
    });
    const url = String((await main.waitForLog((line) => typeof line.url === 'string')).url);
    await main.waitForLog((line) => String(line.msg).startsWith('connected to Redis'));
    return { main, url };
  }

  /** flatpeak_device_polls_total{outcome="ok"} of one replica: the polls it made itself. */
  async function polls(replica: number): Promise<number> {
    const text = await fetch(new URL('/metrics', replicas[replica]!.url)).then((response) => response.text());
    const line = text.split('\n').find((candidate) => candidate.startsWith('flatpeak_device_polls_total{outcome="ok"} '));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  beforeAll(async () => {
    if (redisUnavailable) throw new Error(`${redisUnavailable} (CI must run it: .ci/run installs it)`);
    [redis, standin] = await Promise.all([startRedis(), startStandin()]);
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    for (const { main } of replicas) {
      main.child.kill('SIGTERM');
      await main.exit();
    }
    await standin?.close();
    await redis?.close();
  });

  it('pushes a write through one replica to a subscriber of another, long before that replica would poll', async () => {
    // A minute between polls: an event within the test's few seconds can only have been pushed.
    replicas.push(...(await Promise.all([startReplica(60_000), startReplica(60_000)])));
    const device = sampleDevices()[3]!;
    const stream = await subscribeSse(replicas[1]!.url, WATCH, { id: device.id });
    streams.push(stream);
    expect(updated(await stream.next())).toEqual({ id: device.id, modelName: device.model_name });

    const written = await fetch(replicas[0]!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: RENAME, variables: { id: device.id, name: 'Renamed on replica 0' } }),
    }).then((response) => response.json() as Promise<unknown>);
    expect(written).toEqual({ data: { updateDevice: { device: { id: device.id, modelName: 'Renamed on replica 0' } } } });
    expect(updated(await stream.next())).toEqual({ id: device.id, modelName: 'Renamed on replica 0' });
    stream.close();
    for (const { main } of replicas.splice(0)) {
      main.child.kill('SIGTERM');
      await main.exit();
    }
  }, 20_000);

  it('polls a device watched on two replicas from one of them, and the other takes over when the holder stops', async () => {
    replicas.push(...(await Promise.all([startReplica(INTERVAL_MS), startReplica(INTERVAL_MS)])));
    const device = sampleDevices()[5]!;
    const watch = async (replica: number) => {
      const stream = await subscribeSse(replicas[replica]!.url, WATCH, { id: device.id });
      streams.push(stream);
      expect(updated(await stream.next())?.id).toBe(device.id);
      return stream;
    };
    const [, survivor] = [await watch(0), await watch(1)];

    // Several intervals: every GET of the device comes from one replica, the lease holder.
    const before = [await polls(0), await polls(1)];
    const getsBefore = standin.requests.filter((request) => request.path === `/devices/${device.id}`).length;
    await vi.waitFor(async () => expect((await polls(0)) + (await polls(1)) - before[0]! - before[1]!).toBeGreaterThanOrEqual(6), {
      timeout: 10_000,
      interval: INTERVAL_MS,
    });
    const grown = [(await polls(0)) - before[0]!, (await polls(1)) - before[1]!];
    const gets = standin.requests.filter((request) => request.path === `/devices/${device.id}`).length - getsBefore;
    expect(grown.filter((count) => count > 0)).toHaveLength(1);
    expect(gets).toBe(grown[0]! + grown[1]!);
    const holder = grown[0]! > 0 ? 0 : 1;
    const other = 1 - holder;

    // A change found by the holder's poll reaches the other replica's subscriber (pushed: it does not poll).
    standin.modify(device.id, { model_name: 'Changed upstream' });
    const otherStream = other === 1 ? survivor : streams.at(-2)!;
    expect(updated(await otherStream.next())?.modelName).toBe('Changed upstream');

    // The holder stops (SIGTERM releases its lease): the other replica polls now, and finds the next change itself.
    replicas[holder]!.main.child.kill('SIGTERM');
    await replicas[holder]!.main.exit();
    const takenOver = await polls(other);
    await vi.waitFor(async () => expect(await polls(other)).toBeGreaterThan(takenOver), { timeout: 10_000, interval: INTERVAL_MS });
    standin.modify(device.id, { model_name: 'Changed again' });
    expect(updated(await otherStream.next())?.modelName).toBe('Changed again');
  }, 30_000);
});
