import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Fault } from '../../tools/standin/server.ts';
import { sampleDevices } from '../../tools/standin/data.ts';
import { DeviceIdsOnlyDocument } from '../__generated__/graphql.ts';
import { seededRandom } from '../support/faults.ts';
import { type Harness, startHarness } from '../support/harness.ts';

// A bounded soak: a fixed number of queries, loopback only, faults from a seeded PRNG.
const QUERIES = 300;
const CONCURRENCY = 12;
const IDS_PER_QUERY = 10;
const ALLOWED = new Set([
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_BAD_RESPONSE',
  'UPSTREAM_OVERLOADED',
]);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let h: Harness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  h = await startHarness({ env: { REQUEST_DEADLINE_MS: '2000', FLATPEAK_ATTEMPT_TIMEOUT_MS: '800' } });
  const random = seededRandom(20261125);
  const faults: Array<[number, Fault]> = [
    [0.06, { status: 503 }],
    [0.03, { reset: true }],
    [0.05, { delayMs: 20 }],
    [0.03, { status: 429, headers: { 'retry-after': '0' } }],
    [0.02, { status: 200, body: 'not json' }],
    [0.02, { status: 200, body: '{"object":"device"}', contentType: 'application/json' }],
    [0.01, { hang: true }],
  ];
  h.standin.setFault((request) => {
    if (!request.path.startsWith('/devices/')) return undefined;
    let roll = random();
    for (const [share, fault] of faults) {
      if (roll < share) return fault;
      roll -= share;
    }
    return undefined;
  });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h.close();
});

it('accounts for every requested device under random faults, and memory stays flat', async () => {
  const random = seededRandom(7);
  const pool = [...sampleDevices().map((device) => device.id), 'dev_notthere1', 'dev_notthere2', 'not a device'];
  const queries = Array.from({ length: QUERIES }, () =>
    Array.from({ length: IDS_PER_QUERY }, () => pool[Math.floor(random() * pool.length)]!),
  );

  const outcomes = { data: 0, errors: 0 };
  let heapAfterWarmUp = 0;
  let next = 0;
  async function worker(): Promise<void> {
    while (next < queries.length) {
      const index = next++;
      const ids = queries[index]!;
      const { status, body } = await h.query(DeviceIdsOnlyDocument, { ids });
      expect(status).toBe(200);
      const devices = body.data?.devices;
      expect(devices).toHaveLength(ids.length);
      const errorsByIndex = new Map((body.errors ?? []).map((error) => [error.path?.[1], error]));
      expect(errorsByIndex.size).toBe(body.errors?.length ?? 0); // one error per failed item at most
      devices!.forEach((device, i) => {
        const error = errorsByIndex.get(i);
        if (device) {
          expect(device.id).toBe(ids[i]);
          expect(error).toBeUndefined();
          outcomes.data += 1;
        } else {
          expect(error?.path).toEqual(['devices', i]);
          expect(ALLOWED).toContain(error?.extensions?.code);
          outcomes.errors += 1;
        }
      });
      if (index === 50) {
        h.standin.resetLog();
        gc();
        heapAfterWarmUp = process.memoryUsage().heapUsed;
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  expect(outcomes.data + outcomes.errors).toBe(QUERIES * IDS_PER_QUERY);
  expect(outcomes.data).toBeGreaterThan(outcomes.errors); // most devices still arrive
  h.standin.resetLog();
  gc();
  const growthMb = (process.memoryUsage().heapUsed - heapAfterWarmUp) / 2 ** 20;
  expect(growthMb).toBeLessThan(16);
  expect(unhandled).toEqual([]);
});
