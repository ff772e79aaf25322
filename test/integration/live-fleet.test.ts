import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, type Standin, startStandin } from '../../tools/standin/server.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { freePort, startMain, type Started } from '../support/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../support/redis.ts';
import { type SseSubscription, subscribeSse } from '../support/sse.ts';

/**
 * deviceUpdated across replicas sharing Redis: a write through one replica reaches the
 * subscribers of another by push (pub/sub), and a device watched on both is polled by one of
 * them (a lease), the other taking over when the holder goes.
 */
const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName } }';
const RENAME = 'mutation ($id: ID!, $name: String!) { updateDevice(id: $id, input: { modelName: $name }) { device { id modelName } } }';
const REASSIGN = 'mutation ($id: ID!, $ref: String!) { updateDevice(id: $id, input: { referenceId: $ref }) { device { id referenceId } } }';
/** user-a's own device (its reference is user-a's subject). */
const OWN = { ...seedDevice, id: 'dev_usera1', reference_id: 'user-a', locations: [] };
// The lease is two intervals (src/app.ts): 1 s, so that a holder stalled a few hundred ms on a
// loaded runner does not lose it to the other replica mid-test.
const INTERVAL_MS = 500;

interface Replica {
  readonly main: Started;
  readonly url: string;
  /** Its /metrics, on a port of its own (METRICS_PORT). */
  readonly metricsUrl: string;
}

/** The device an SSE event carries. */
const updated = (event: Record<string, unknown> | undefined) =>
  (event?.data as { deviceUpdated?: { id: string; modelName: string } } | undefined)?.deviceUpdated;

describe.skipIf(redisUnavailable && !process.env.CI)('deviceUpdated across replicas (REDIS_URL)', () => {
  let redis: RedisServer;
  let standin: Standin;
  let idp: IdentityProvider;
  const replicas: Replica[] = [];
  const streams: SseSubscription[] = [];

  async function startReplica(pollIntervalMs: number, env: Record<string, string> = {}): Promise<Replica> {
    const metricsPort = await freePort();
    const main = startMain({
      METRICS_PORT: String(metricsPort),
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
      ...env,
    });
    const url = String((await main.waitForLog((line) => typeof line.url === 'string')).url);
    await main.waitForLog((line) => String(line.msg).startsWith('connected to Redis'));
    return { main, url, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
  }

  /** flatpeak_device_polls_total{outcome="ok"} of one replica: the polls it made itself. */
  async function polls(replica: number): Promise<number> {
    const text = await fetch(replicas[replica]!.metricsUrl).then((response) => response.text());
    const line = text.split('\n').find((candidate) => candidate.startsWith('flatpeak_device_polls_total{outcome="ok"} '));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  beforeAll(async () => {
    if (redisUnavailable) throw new Error(`${redisUnavailable} (CI must run it: .ci/run installs it)`);
    [redis, standin, idp] = await Promise.all([
      startRedis(),
      startStandin({ devices: [...sampleDevices(), OWN] }),
      startIdentityProvider(),
    ]);
  });

  async function stopAll(): Promise<void> {
    const stopping = replicas.splice(0);
    for (const { main } of stopping) main.child.kill('SIGTERM');
    await Promise.all(stopping.map(({ main }) => main.exit()));
  }

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await stopAll();
    await standin?.close();
    await redis?.close();
    await idp?.close();
  });

  it('pushes a write through one replica to the subscribers of another, long before that replica would poll, each under its own access rule', async () => {
    // A minute between polls: an event within the test's few seconds can only have been pushed.
    const jwt = { CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };
    replicas.push(...(await Promise.all([startReplica(60_000, jwt), startReplica(60_000, jwt)])));
    const admin = { authorization: `Bearer ${await idp.token({ claims: { sub: 'admin', scope: 'devices:read:all devices:write' } })}` };
    const userA = { authorization: `Bearer ${await idp.token({ claims: { sub: 'user-a' } })}` };
    const write = (query: string, variables: Record<string, unknown>) =>
      fetch(replicas[0]!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...admin },
        body: JSON.stringify({ query, variables }),
      }).then((response) => response.json() as Promise<unknown>);

    const device = sampleDevices()[3]!;
    const stream = await subscribeSse(replicas[1]!.url, WATCH, { id: device.id }, admin);
    streams.push(stream);
    expect(updated(await stream.next())).toEqual({ id: device.id, modelName: device.model_name });
    expect(await write(RENAME, { id: device.id, name: 'Renamed on replica 0' })).toEqual({
      data: { updateDevice: { device: { id: device.id, modelName: 'Renamed on replica 0' } } },
    });
    expect(updated(await stream.next())).toEqual({ id: device.id, modelName: 'Renamed on replica 0' });

    // The attack: user-a's device is given to someone else through replica 0. The pushed version
    // reaches replica 1, where user-a's subscription ends NOT_FOUND (the rule, applied per
    // subscriber to every version) while the admin's gets the device.
    const own = await subscribeSse(replicas[1]!.url, WATCH, { id: OWN.id }, userA);
    const watched = await subscribeSse(replicas[1]!.url, WATCH, { id: OWN.id }, admin);
    streams.push(own, watched);
    expect(updated(await own.next())?.id).toBe(OWN.id);
    expect(updated(await watched.next())?.id).toBe(OWN.id);
    expect(await write(REASSIGN, { id: OWN.id, ref: 'user-b' })).toEqual({
      data: { updateDevice: { device: { id: OWN.id, referenceId: 'user-b' } } },
    });
    const refused = await own.next();
    expect(refused?.data ?? null).toBeNull();
    expect((refused?.errors as Array<{ extensions?: { code?: string } }>).map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(await own.next()).toBeUndefined(); // and the stream ends
    expect(JSON.stringify(refused)).not.toContain('user-b');
    expect(updated(await watched.next())?.id).toBe(OWN.id);
    await stopAll();
  }, 40_000);

  it('polls a device watched on two replicas from one of them; the other takes over when the holder leaves or dies', async () => {
    await stopAll(); // whatever an earlier test left running
    replicas.push(...(await Promise.all([startReplica(INTERVAL_MS), startReplica(INTERVAL_MS)])));
    const device = sampleDevices()[5]!;
    const watch = async (replica: number) => {
      const stream = await subscribeSse(replicas[replica]!.url, WATCH, { id: device.id });
      streams.push(stream);
      expect(updated(await stream.next())?.id).toBe(device.id);
      return stream;
    };
    const watching = [await watch(0), await watch(1)];
    const gets = () => standin.requests.filter((request) => request.path === `/devices/${device.id}`).length;
    /** Waits until the replicas together have polled `count` more times; returns what each polled meanwhile. */
    const pollsFor = async (count: number) => {
      const before = [await polls(0), await polls(1)];
      await vi.waitFor(async () => expect((await polls(0)) + (await polls(1)) - before[0]! - before[1]!).toBeGreaterThanOrEqual(count), {
        timeout: 15_000,
        interval: INTERVAL_MS,
      });
      return [(await polls(0)) - before[0]!, (await polls(1)) - before[1]!];
    };

    // Several intervals: every GET of the device comes from one replica, the lease holder.
    const getsBefore = gets();
    const grown = await pollsFor(6);
    expect(grown.filter((count) => count > 0)).toHaveLength(1);
    // The GETs are counted as the stand-in receives them and the polls once answered, read at
    // other moments: a poll in flight at either edge counts on one side only. A second poller
    // or an uncounted fetch would add one GET an interval, six here.
    const polled = grown[0]! + grown[1]!;
    const fetched = gets() - getsBefore;
    expect(fetched).toBeGreaterThanOrEqual(polled - 1);
    expect(fetched).toBeLessThanOrEqual(polled + 2);
    const holder = grown[0]! > 0 ? 0 : 1;
    const other = 1 - holder;

    // A change found by the holder's poll reaches the other replica's subscriber (pushed: that one does not poll).
    standin.modify(device.id, { model_name: 'Changed upstream' });
    expect(updated(await watching[other]!.next())?.modelName).toBe('Changed upstream');

    // The holder's last subscriber leaves: it stops polling and releases the lease, and the other
    // replica polls from its next interval, finding the next change itself.
    watching[holder]!.close();
    await pollsFor(3);
    const afterLeaving = await pollsFor(3);
    expect(afterLeaving[holder]).toBe(0);
    standin.modify(device.id, { model_name: 'Changed again' });
    expect(updated(await watching[other]!.next())?.modelName).toBe('Changed again');

    // Subscribed again on the first replica, which now waits for the lease; the holder dies
    // (SIGKILL: no release). Its lease lapses and the first replica takes the device over.
    watching[holder] = await watch(holder);
    replicas[other]!.main.child.kill('SIGKILL');
    await replicas[other]!.main.exit();
    const lastPolls = await polls(holder);
    await vi.waitFor(async () => expect(await polls(holder)).toBeGreaterThan(lastPolls), { timeout: 15_000, interval: INTERVAL_MS });
    standin.modify(device.id, { model_name: 'Changed after the holder died' });
    expect(updated(await watching[holder].next())?.modelName).toBe('Changed after the holder died');
  }, 60_000);
});
