import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNT_ID, SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, type Standin, startStandin } from '../../tools/standin/server.ts';
import { startMain, type Started } from '../support/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../support/redis.ts';

/**
 * Two replicas (two real facade processes) sharing one real Redis: the device cache, APQ
 * registrations and the per-caller limits are the fleet's, not each process's; a Redis outage degrades, never fails.
 */
const DEVICE = `{ device(id: "${SEED_DEVICE_ID}") { id referenceId } }`;

describe.skipIf(redisUnavailable && !process.env.CI)('two replicas sharing Redis (REDIS_URL)', () => {
  let redis: RedisServer;
  let standin: Standin;
  const replicas: Array<{ main: Started; url: string }> = [];

  beforeAll(async () => {
    if (redisUnavailable) throw new Error(`${redisUnavailable} (CI must run it: .ci/run installs it)`);
    [redis, standin] = await Promise.all([startRedis(), startStandin()]);
    for (let i = 0; i < 2; i += 1) {
      const main = startMain({
        PORT: '0',
        LOG_LEVEL: 'info',
        FLATPEAK_API_URL: standin.url.href,
        FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID,
        FLATPEAK_API_KEY: DEMO_API_KEY,
        CALLER_AUTH: 'none',
        REDIS_URL: redis.url.href,
        DEVICE_CACHE_TTL_MS: '60000',
        RATE_LIMIT_PER_SECOND: '0.1',
        RATE_LIMIT_BURST: '3',
        INTROSPECTION_PER_MINUTE: '2',
      });
      const url = String((await main.waitForLog((line) => typeof line.url === 'string')).url);
      await main.waitForLog((line) => String(line.msg).startsWith('connected to Redis'));
      replicas.push({ main, url });
    }
  }, 30_000);

  afterAll(async () => {
    for (const { main } of replicas) {
      main.child.kill('SIGTERM');
      await main.exit();
    }
    await standin?.close();
    await redis?.close();
  });

  const query = async (replica: number, document: string) => {
    const response = await fetch(replicas[replica]!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: document }),
    });
    return (await response.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
  };

  it('serves through the second replica a device the first fetched, without another upstream call', async () => {
    standin.resetLog();
    expect(await query(0, DEVICE)).toEqual({ data: { device: { id: SEED_DEVICE_ID, referenceId: 'DEV1234567890' } } });
    expect(await query(1, DEVICE)).toEqual({ data: { device: { id: SEED_DEVICE_ID, referenceId: 'DEV1234567890' } } });
    expect(standin.count('/devices/')).toBe(1);
  });

  it('counts a caller’s reads across replicas: the burst is the fleet’s, not each replica’s', async () => {
    // Both replicas see the same caller (this machine's address); the seed device read above
    // spent 2 of its 3 tokens, so the next read passes and the one after is limited.
    expect((await query(1, DEVICE)).errors).toBeUndefined();
    const limited = await query(0, DEVICE);
    expect(limited.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
  });

  it('counts a caller’s introspection across replicas (issue 21): two a minute for the fleet, not for each replica', async () => {
    const introspection = '{ __schema { queryType { name } } }';
    expect((await query(0, introspection)).errors).toBeUndefined();
    expect((await query(1, introspection)).errors).toBeUndefined();
    const limited = await query(0, introspection);
    expect(limited.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
  });

  it('knows at the second replica an APQ hash registered at the first', async () => {
    const document = `query Registered${Date.now()} { __typename }`;
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(document).digest('hex') };
    const post = (replica: number, body: object) =>
      fetch(replicas[replica]!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        (response) => response.json() as Promise<{ data?: unknown; errors?: Array<{ message: string }> }>,
      );
    // Unknown everywhere at first: the client is told to send the document.
    expect((await post(1, { extensions: { persistedQuery } })).errors?.[0]?.message).toBe('PersistedQueryNotFound');
    expect(await post(0, { query: document, extensions: { persistedQuery } })).toEqual({ data: { __typename: 'Query' } });
    await vi.waitFor(async () => expect(await post(1, { extensions: { persistedQuery } })).toEqual({ data: { __typename: 'Query' } }));
  });

  it('keeps answering when Redis dies, and uses it again once it is back', async () => {
    await redis.kill();
    await replicas[0]!.main.waitForLog((line) => String(line.msg).startsWith('Redis is unavailable'));
    standin.resetLog();
    const during = await query(0, `{ device(id: "dev_000000000000000000000001") { id } }`);
    expect(during).toEqual({ data: { device: { id: 'dev_000000000000000000000001' } } });
    expect(standin.count('/devices/')).toBe(1); // no cache, straight to Flatpeak

    await redis.restart();
    const connections = (replica: number) => replicas[replica]!.main.output().split('connected to Redis').length - 1;
    await vi.waitFor(() => expect([connections(0), connections(1)]).toEqual([2, 2]), { timeout: 10_000 });
    standin.resetLog();
    await query(0, `{ device(id: "dev_000000000000000000000002") { id } }`);
    await query(1, `{ device(id: "dev_000000000000000000000002") { id } }`);
    expect(standin.count('/devices/')).toBe(1);
  });
});
