import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { MINIMAL_DEVICE_ID, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { readMultipart } from '../support/multipart.ts';
import { subscribeSse } from '../support/sse.ts';

let h: Harness;
const errorLines: string[] = [];
beforeAll(async () => {
  h = await startHarness({ logger: createLogger('error', { write: (line: string) => void errorLines.push(line) }) });
});
afterAll(() => h.close());
beforeEach(() => {
  h.standin.setFault(undefined);
  h.standin.resetLog();
  errorLines.length = 0;
});

const deferred = (query: string, variables?: Record<string, unknown>) =>
  fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
    body: JSON.stringify({ query, variables }),
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
    const response = await deferred(
      `{ devices(ids: ["${SEED_DEVICE_ID}", "${MINIMAL_DEVICE_ID}"]) @stream(initialCount: 1) { modelName } }`,
    );
    const parts = readMultipart(response);
    const received: Array<Record<string, unknown>> = [];
    for (let part = await parts.next(); part; part = await parts.next()) received.push(part);
    expect(received[0]).toEqual({ data: { devices: [{ modelName: 'Pico Ultimate' }] }, hasNext: true });
    expect(received.slice(1).flatMap((part) => part.incremental as unknown[])).toEqual([
      { items: [{ modelName: 'Wallbox 7' }], path: ['devices', 1] },
    ]);
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

describe('bad @defer and @stream arguments', () => {
  const ids = `["${SEED_DEVICE_ID}", "${MINIMAL_DEVICE_ID}"]`;
  const COUNTED = `query ($n: Int) { devices(ids: ${ids}) @stream(initialCount: $n) { id } }`;

  it.each<[string, string, Record<string, unknown>?]>([
    ['a negative initialCount', `{ devices(ids: ${ids}) @stream(initialCount: -1) { id } }`],
    ['a null initialCount', `{ devices(ids: ${ids}) @stream(initialCount: null) { id } }`],
    ['a negative initialCount in a variable', COUNTED, { n: -1 }],
    ['a null initialCount in a variable', COUNTED, { n: null }],
    [
      'a negative initialCount as a variable’s default',
      `query ($n: Int = -1) { devices(ids: ${ids}) @stream(initialCount: $n) { id } }`,
      {},
    ],
    ['a non-integer initialCount in a variable', COUNTED, { n: 1.5 }],
    [
      'a negative initialCount in a fragment',
      `query ($n: Int!) { ...List } fragment List on Query { device(id: "${SEED_DEVICE_ID}") { locations @stream(initialCount: $n) { id } } }`,
      { n: -2 },
    ],
    ['a null @stream(if:)', `query ($s: Boolean) { devices(ids: ${ids}) @stream(if: $s) { id } }`, { s: null }],
    ['a null @defer(if:)', `query ($d: Boolean) { device(id: "${SEED_DEVICE_ID}") { id ... @defer(if: $d) { modelName } } }`, { d: null }],
  ])('%s is the caller’s input: BAD_USER_INPUT, nothing run, nothing logged as an error', async (_name, query, variables) => {
    const response = await deferred(query, variables);
    expect(response.status).toBe(400);
    const parts = readMultipart(response);
    expect(await parts.next()).toEqual({
      errors: [
        expect.objectContaining({ message: expect.stringMatching(/initialCount|"if"|\$n/), extensions: { code: 'BAD_USER_INPUT' } }),
      ],
    });
    expect(await parts.next()).toBeUndefined();
    expect(h.standin.count('/devices/')).toBe(0);
    expect(errorLines).toEqual([]);
  });

  it('is refused in a subscription too, before its first event', async () => {
    const stream = await subscribeSse(
      h.url,
      `subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { locations @stream(initialCount: -1) { id } } }`,
    );
    expect(await stream.next()).toEqual({
      errors: [{ message: expect.stringContaining('initialCount'), extensions: { code: 'BAD_USER_INPUT' } }],
    });
    stream.close();
    expect(errorLines).toEqual([]);
  });

  it('leaves a good initialCount in a variable alone', async () => {
    const parts = readMultipart(await deferred(COUNTED, { n: 1 }));
    expect(await parts.next()).toEqual({ data: { devices: [{ id: SEED_DEVICE_ID }] }, hasNext: true });
    await parts.cancel();
  });
});
