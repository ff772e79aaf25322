import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LEGACY_DEVICE_ID, MINIMAL_DEVICE_ID, SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DeviceByIdDocument, DeviceIdsOnlyDocument, DevicesByIdsDocument } from '../__generated__/graphql.ts';
import { codesByPath, type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.standin.setFault(undefined);
  h.standin.resetLog();
});

const generatedIds = sampleDevices()
  .map((device) => device.id)
  .filter((id) => ![SEED_DEVICE_ID, MINIMAL_DEVICE_ID, LEGACY_DEVICE_ID].includes(id));

describe('device(id)', () => {
  it('maps every field of the seed device', async () => {
    const { status, body } = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.device).toEqual({
      id: 'dev_63a6087272941ef077a8fd3e',
      liveMode: true,
      referenceId: 'DEV1234567890',
      locations: [{ id: 'loc_641b90b758fb8e6293716e40' }],
      manufacturer: 'Nova Systems',
      modelCode: 'PICOXN2',
      modelName: 'Pico Ultimate',
      timeCreated: '2022-01-24T14:15:22.000Z',
      accountId: 'acc_661677911f2197045e6cf1b1',
      lastSeen: '2022-03-22T11:12:21.000Z',
      flexEnabled: true,
      properties: {
        powerRatingImportKwh: 14.2,
        capacityKwh: 123,
        powerRatingExportKwh: 7,
        pvAzimuth: 0,
        pvTilt: 23,
        pvTerrainShading: false,
        pvForecastsEnabled: false,
        installDate: '2022-03-22T11:12:21.000Z',
      },
    });
  });

  it('reads a device without any optional field: nulls, the documented flexEnabled default, UTC time', async () => {
    const { body } = await h.query(DeviceByIdDocument, { id: MINIMAL_DEVICE_ID });
    expect(body.errors).toBeUndefined();
    expect(body.data?.device).toMatchObject({
      id: MINIMAL_DEVICE_ID,
      locations: [],
      properties: null,
      lastSeen: null,
      flexEnabled: true,
      // Flatpeak sent "2021-06-01T08:00:00.003" without an offset: it is UTC.
      timeCreated: '2021-06-01T08:00:00.003Z',
    });
  });

  it('keeps flexEnabled false and ignores fields it does not know', async () => {
    const raw = sampleDevices().find((device) => device.flex_enabled === false && 'firmware_version' in device)!;
    const { body } = await h.query(DeviceByIdDocument, { id: raw.id });
    expect(body.errors).toBeUndefined();
    expect(body.data?.device).toMatchObject({ id: raw.id, flexEnabled: false, referenceId: raw.reference_id });
  });

  it('serves an older-API device to clients that do not ask for the fields it lacks', async () => {
    const partial = await h.query('query ($id: ID!) { device(id: $id) { id referenceId locations { id } } }', { id: LEGACY_DEVICE_ID });
    expect(partial.body).toEqual({ data: { device: { id: LEGACY_DEVICE_ID, referenceId: 'LEGACY', locations: [] } } });

    const full = await h.query(DeviceByIdDocument, { id: LEGACY_DEVICE_ID });
    expect(full.body.data?.device).toBeNull();
    expect(codesByPath(full.body)).toMatchObject({ 'device.manufacturer': 'UPSTREAM_BAD_RESPONSE' });
  });

  it('answers an unknown device with null and NOT_FOUND, without Flatpeak’s details (a refused device looks the same)', async () => {
    const { status, body } = await h.query(DeviceByIdDocument, { id: 'dev_doesnotexist' });
    expect(status).toBe(200);
    expect(body.data?.device).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]).toEqual({
      message: 'No device dev_doesnotexist',
      locations: [expect.any(Object)],
      path: ['device'],
      extensions: { code: 'NOT_FOUND' },
    });
  });

  it.each(['not-an-id', 'loc_641b90b758fb8e6293716e40', 'dev_', 'dev_../../login', `dev_${'a'.repeat(65)}`, 'dev_abc?x=1'])(
    'rejects the ID %j with BAD_USER_INPUT before any upstream call',
    async (id) => {
      const { status, body } = await h.query(DeviceByIdDocument, { id });
      expect(status).toBe(200);
      expect(body.data?.device).toBeNull();
      expect(codesByPath(body)).toEqual({ device: 'BAD_USER_INPUT' });
      expect(h.standin.count('/devices')).toBe(0);
    },
  );
});

describe('devices(ids)', () => {
  it('keeps order and duplicates, fetching each distinct id once', async () => {
    const ids = [SEED_DEVICE_ID, generatedIds[0]!, SEED_DEVICE_ID, generatedIds[1]!, SEED_DEVICE_ID, SEED_DEVICE_ID, SEED_DEVICE_ID];
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids });
    expect(body.errors).toBeUndefined();
    expect(body.data?.devices.map((device) => device?.id)).toEqual(ids);
    expect(h.standin.count('/devices/')).toBe(3);
    expect(h.standin.count(`/devices/${SEED_DEVICE_ID}`)).toBe(1);
  });

  it('deduplicates across root fields and aliases of one request', async () => {
    const { body } = await h.query(
      `query ($id: ID!) {
        a: device(id: $id) { id }
        b: device(id: $id) { modelName }
        c: devices(ids: [$id, $id]) { id }
      }`,
      { id: SEED_DEVICE_ID },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      a: { id: SEED_DEVICE_ID },
      b: { modelName: 'Pico Ultimate' },
      c: [{ id: SEED_DEVICE_ID }, { id: SEED_DEVICE_ID }],
    });
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('makes 16 distinct upstream calls concurrently, not one after another', async () => {
    const ids = generatedIds.slice(0, 16);
    // The stand-in answers none of them until all 16 are in flight at once.
    h.standin.holdUntilConcurrent(16);
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids });
    expect(body.errors).toBeUndefined();
    expect(body.data?.devices).toHaveLength(16);
    expect(h.standin.count('/devices/')).toBe(16);
    expect(h.standin.maxInFlight).toBe(16);
  });

  it('does not share a cache between requests', async () => {
    await h.query(DeviceIdsOnlyDocument, { ids: [SEED_DEVICE_ID] });
    await h.query(DeviceIdsOnlyDocument, { ids: [SEED_DEVICE_ID] });
    expect(h.standin.count('/devices/')).toBe(2);
  });

  it('returns one entry per id: data, or null with an error at its own index', async () => {
    const ids = [SEED_DEVICE_ID, 'dev_missing1', 'bad id', MINIMAL_DEVICE_ID, 'dev_missing1'];
    const { status, body } = await h.query(DevicesByIdsDocument, { ids });
    expect(status).toBe(200);
    expect(body.data?.devices.map((device) => device?.id ?? null)).toEqual([SEED_DEVICE_ID, null, null, MINIMAL_DEVICE_ID, null]);
    expect(codesByPath(body)).toEqual({ 'devices.1': 'NOT_FOUND', 'devices.2': 'BAD_USER_INPUT', 'devices.4': 'NOT_FOUND' });
    // "bad id" never reached the upstream; dev_missing1 was asked for once.
    expect(h.standin.requests.map((request) => request.path).sort()).toEqual(
      [`/devices/${SEED_DEVICE_ID}`, '/devices/dev_missing1', `/devices/${MINIMAL_DEVICE_ID}`].sort(),
    );
  });

  it('accepts 100 ids and refuses 101 without calling the upstream', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => generatedIds[i % generatedIds.length]!);
    const ok = await h.query(DeviceIdsOnlyDocument, { ids: hundred });
    expect(ok.body.data?.devices).toHaveLength(100);
    expect(h.standin.count('/devices/')).toBe(generatedIds.length);

    h.standin.resetLog();
    const tooMany = await h.query(DeviceIdsOnlyDocument, { ids: [...hundred, SEED_DEVICE_ID] });
    expect(tooMany.body.data).toBeNull();
    expect(codesByPath(tooMany.body)).toEqual({ devices: 'BAD_USER_INPUT' });
    expect(h.standin.count()).toBe(0);
  });

  it('answers an empty list with an empty list', async () => {
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [] });
    expect(body).toEqual({ data: { devices: [] } });
  });
});

describe('upstream failures, one device at a time', () => {
  const broken = generatedIds[2]!;
  const cases = [
    // Service credentials: Flatpeak refusing the service's fresh token is not the caller's fault.
    { fault: { status: 401 }, code: 'UPSTREAM_UNAVAILABLE' },
    { fault: { status: 403, code: 'forbidden' }, code: 'FORBIDDEN' },
    { fault: { status: 422, code: 'account_disabled' }, code: 'FORBIDDEN' },
    { fault: { status: 429, code: 'rate_limited' }, code: 'RATE_LIMITED' },
    { fault: { status: 400, code: 'some_invalid_request' }, code: 'UPSTREAM_REJECTED' },
    { fault: { status: 500 }, code: 'UPSTREAM_UNAVAILABLE' },
    { fault: { status: 503, body: '<html><body>Service Unavailable</body></html>' }, code: 'UPSTREAM_UNAVAILABLE' },
    { fault: { status: 200, body: '<html>not json</html>' }, code: 'UPSTREAM_BAD_RESPONSE' },
    { fault: { status: 200, body: '{"id":"dev_x","object":"device"}', contentType: 'application/json' }, code: 'UPSTREAM_BAD_RESPONSE' },
    { fault: { status: 200, body: '[]', contentType: 'application/json' }, code: 'UPSTREAM_BAD_RESPONSE' },
    { fault: { reset: true }, code: 'UPSTREAM_UNAVAILABLE' },
  ] as const;

  it.each(cases)('$fault → $code for that device only', async ({ fault, code }) => {
    h.standin.setFault((request) => (request.path === `/devices/${broken}` ? fault : undefined));
    const ids = [SEED_DEVICE_ID, broken, MINIMAL_DEVICE_ID];
    const { status, body } = await h.query(DeviceIdsOnlyDocument, { ids });
    expect(status).toBe(200);
    expect(body.data?.devices).toEqual([{ id: SEED_DEVICE_ID }, null, { id: MINIMAL_DEVICE_ID }]);
    expect(codesByPath(body)).toEqual({ 'devices.1': code });
    const error = body.errors![0]!;
    expect(JSON.stringify(error)).not.toMatch(/stack|eyJstandin|Basic |Bearer /);
    if ('code' in fault) expect(error.extensions).toMatchObject({ upstream: { status: fault.status, code: fault.code } });
  });
});

describe('GraphQL-level errors', () => {
  it('coerces an Int ID to a string, which then fails ID validation', async () => {
    const { status, body } = await h.query(DeviceByIdDocument, { id: 42 as unknown as string });
    expect(status).toBe(200);
    expect(codesByPath(body)).toEqual({ device: 'BAD_USER_INPUT' });
  });

  it.each([
    ['a missing variable', {}],
    ['null for a non-null variable', { id: null }],
    ['an object for an ID', { id: { a: 1 } }],
  ])('answers %s with HTTP 400, BAD_USER_INPUT and no upstream call', async (_name, variables) => {
    const { status, body } = await h.query(DeviceByIdDocument, variables as never);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/\$id/);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(h.standin.count()).toBe(0);
  });

  it('masks unexpected errors and exposes no stack', async () => {
    const { body } = await h.query('{ device(id: "dev_1") { nope } }');
    expect(body.errors?.[0]?.message).toMatch(/Cannot query field "nope"/);
    expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.ts:/);
  });

  it('refuses queries beyond the security limits', async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: device(id: "dev_1") { id }`).join('\n');
    const { status, body } = await h.query(`{ ${aliases} }`);
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toMatch(/aliases limit/i);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const deep = await h.query('{ device(id: "dev_1") { properties { a { b { c { d { e { f { g { h { i } } } } } } } } } } }');
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.map((error) => error.message)).toContainEqual(expect.stringMatching(/depth limit/i));
    expect(h.standin.count()).toBe(0);
  });

  it('gives other origins no CORS access by default', async () => {
    const preflight = await fetch(h.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const { headers } = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { origin: 'https://evil.example' });
    expect(headers.get('access-control-allow-origin')).toBeNull();
  });

  it('echoes the request id it forwarded to the upstream', async () => {
    const { headers } = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { 'x-request-id': 'req-123' });
    expect(headers.get('x-request-id')).toBe('req-123');
    const upstream = h.standin.requests.find((request) => request.path.startsWith('/devices/'));
    expect(upstream?.headers['x-request-id']).toBe('req-123');
  });
});
