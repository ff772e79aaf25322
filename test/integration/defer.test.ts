import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MINIMAL_DEVICE_ID, SEED_DEVICE_ID, sampleDevices } from '../../src/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { readMultipart } from '../support/multipart.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.standin.setFault(undefined);
  h.standin.resetLog();
});

const deferred = (query: string) =>
  fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
    body: JSON.stringify({ query }),
  });

describe('@defer (incremental delivery over multipart/mixed)', () => {
  it('sends the first part, then the deferred fragments, each in its own part', async () => {
    const response = await deferred(`{
      device(id: "${SEED_DEVICE_ID}") {
        modelName
        ... @defer(label: "details") { properties { capacityKwh } }
      }
      ... @defer(label: "more") { other: device(id: "${MINIMAL_DEVICE_ID}") { modelName } }
    }`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    const parts = readMultipart(response);
    const received: Array<Record<string, unknown>> = [];
    for (let part = await parts.next(); part; part = await parts.next()) received.push(part);

    expect(received[0]).toEqual({ data: { device: { modelName: 'Pico Ultimate' } }, hasNext: true });
    const incremental = received.slice(1).flatMap((part) => part.incremental as unknown[]);
    expect(incremental).toEqual(
      expect.arrayContaining([
        { data: { properties: { capacityKwh: 123 } }, path: ['device'], label: 'details' },
        { data: { other: { modelName: 'Wallbox 7' } }, path: [], label: 'more' },
      ]),
    );
    expect(incremental).toHaveLength(2);
    expect(received.at(-1)).toMatchObject({ hasNext: false });
    expect(h.standin.count('/devices/')).toBe(2);
  });

  it('delivers the first part while a deferred device is still waiting for Flatpeak', async () => {
    // The stand-in never answers for `slow`, and the facade would wait for it far longer than
    // this test runs: the first part can only arrive if it does not wait for that device.
    const patient = await startHarness({ env: { FLATPEAK_HEADERS_TIMEOUT_MS: '600000', FLATPEAK_BODY_TIMEOUT_MS: '600000' } });
    const slow = sampleDevices()[9]!.id;
    patient.standin.setFault((request) => (request.path === `/devices/${slow}` ? { hang: true } : undefined));
    try {
      const response = await fetch(patient.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
        body: JSON.stringify({
          query: `{
            device(id: "${SEED_DEVICE_ID}") { modelName }
            ... @defer(label: "slow") { slow: device(id: "${slow}") { modelName } }
          }`,
        }),
      });
      const parts = readMultipart(response);
      expect(await parts.next()).toEqual({ data: { device: { modelName: 'Pico Ultimate' } }, hasNext: true });
      // Both were asked for at once: deferring changes when a part is sent, not when it is fetched.
      const deviceCalls = patient.standin.requests.map((request) => request.path).filter((path) => path.startsWith('/devices/'));
      expect(deviceCalls.sort()).toEqual([`/devices/${SEED_DEVICE_ID}`, `/devices/${slow}`].sort());
      await parts.cancel();
    } finally {
      await patient.close();
    }
  }, 10_000);

  it('@stream sends the first items of a list, then the rest', async () => {
    const response = await deferred(`{ devices(ids: ["${SEED_DEVICE_ID}", "${MINIMAL_DEVICE_ID}"]) @stream(initialCount: 1) { modelName } }`);
    const parts = readMultipart(response);
    const received: Array<Record<string, unknown>> = [];
    for (let part = await parts.next(); part; part = await parts.next()) received.push(part);
    expect(received[0]).toEqual({ data: { devices: [{ modelName: 'Pico Ultimate' }] }, hasNext: true });
    expect(received.slice(1).flatMap((part) => part.incremental as unknown[])).toEqual([{ items: [{ modelName: 'Wallbox 7' }], path: ['devices', 1] }]);
    expect(received.at(-1)).toMatchObject({ hasNext: false });
  });

  it('is refused on a plain JSON request, which cannot carry parts', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { modelName ... @defer { lastSeen } } }` }),
    });
    expect(response.status).toBe(406);
  });
});
