import { connect } from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT_ID, type RawDevice, SEED_DEVICE_ID, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, type SeenRequest } from '../../tools/standin/server.ts';
import { faultOn } from '../support/faults.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

const PAYLOAD = `device { id referenceId manufacturer modelCode modelName locations { id } properties { pvTilt pvAzimuth capacityKwh installDate } }
  userErrors { field message code }
  clientMutationId`;
const CREATE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { ${PAYLOAD} } }`;
const READ =
  'query ($id: ID!) { device(id: $id) { id referenceId manufacturer modelName locations { id } properties { pvTilt capacityKwh installDate } } }';

interface Written {
  device: { id: string; referenceId: string; modelName: string; [field: string]: unknown } | null;
  userErrors: Array<{ field: string[] | null; message: string; code: string }>;
  clientMutationId: string | null;
}

const writes = (h: Harness) => h.standin.requests.filter((request) => request.method === 'POST' || request.method === 'PATCH');
const reads = (h: Harness, id: string) =>
  h.standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;

describe('createDevice and updateDevice (CALLER_AUTH=none, device cache on)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { DEVICE_CACHE_TTL_MS: '60000' } });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.standin.resetLog();
    h.standin.setFault(undefined);
  });

  it('creates, reads back, updates and reads back; nothing serves the old version afterwards', async () => {
    const input = {
      referenceId: 'HOME-42',
      type: 'PV_SYSTEM',
      locations: ['loc_641b90b758fb8e6293716e40'],
      manufacturer: 'Heliodyne',
      modelCode: 'HD-PV6',
      modelName: 'Roof Array 6',
      properties: { pvTilt: 30, pvAzimuth: 180, installDate: '2024-05-01T10:00:00Z' },
    };
    const created = await h.query<{ createDevice: Written }, unknown>(CREATE, { input });
    expect(created.body.errors).toBeUndefined();
    const { device, userErrors } = created.body.data!.createDevice;
    expect(userErrors).toEqual([]);
    expect(device).toMatchObject({
      referenceId: 'HOME-42',
      modelName: 'Roof Array 6',
      locations: [{ id: 'loc_641b90b758fb8e6293716e40' }],
    });
    expect(device!.id).toMatch(/^dev_[a-f0-9]{24}$/);
    // Flatpeak's names on the wire, and nothing sent twice.
    expect(writes(h).map((request) => [request.method, request.path, request.body])).toEqual([
      [
        'POST',
        '/devices',
        {
          reference_id: 'HOME-42',
          type: 'PV_SYSTEM',
          locations: ['loc_641b90b758fb8e6293716e40'],
          manufacturer: 'Heliodyne',
          model_code: 'HD-PV6',
          model_name: 'Roof Array 6',
          properties: { pv_tilt: 30, pv_azimuth: 180, install_date: '2024-05-01T10:00:00Z' },
        },
      ],
    ]);

    // Read back: the write primed the shared cache, so this costs no upstream call.
    const id = device!.id;
    const readBack = await h.query<{ device: Record<string, unknown> }, unknown>(READ, { id });
    expect(readBack.body.data!.device).toMatchObject({
      id,
      referenceId: 'HOME-42',
      properties: { pvTilt: 30, installDate: '2024-05-01T10:00:00.000Z' },
    });
    expect(reads(h, id)).toBe(0);

    const updated = await h.query<{ updateDevice: Written }, unknown>(UPDATE, {
      id,
      input: { modelName: 'Roof Array 8', properties: { pvTilt: 35 } },
    });
    expect(updated.body.errors).toBeUndefined();
    expect(updated.body.data!.updateDevice).toMatchObject({
      userErrors: [],
      device: { id, modelName: 'Roof Array 8', properties: { pvTilt: 35, pvAzimuth: 180 } },
    });
    // The PATCH carries only the change, plus the reference_id Flatpeak's update requires.
    expect(writes(h).at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/devices/${id}`,
      body: { reference_id: 'HOME-42', model_name: 'Roof Array 8', properties: { pv_tilt: 35 } },
    });

    const again = await h.query<{ device: Record<string, unknown> }, unknown>(READ, { id });
    expect(again.body.data!.device).toMatchObject({ modelName: 'Roof Array 8', properties: { pvTilt: 35 } });
    expect(h.standin.device(id)).toMatchObject({ model_name: 'Roof Array 8', properties: { pv_tilt: 35, pv_azimuth: 180 } });
    // One GET, the update's own (a write is authorized on Flatpeak's copy, never a cached one:
    // test/integration/stale-writes.test.ts); the read after it is served Flatpeak's answer to the PATCH.
    expect(reads(h, id)).toBe(1);
  });

  it('replaces a cached device and the request’s own loaded copy with the updated one', async () => {
    const before = await h.query<{ device: { modelName: string } }, unknown>(READ, { id: SEED_DEVICE_ID });
    expect(before.body.data!.device.modelName).toBe('Pico Ultimate');
    h.standin.resetLog();
    // One document: read, update, read again. The second read must see the update.
    const document = `mutation ($id: ID!) {
      updateDevice(id: $id, input: { modelName: "Pico Ultimate 2" }) { device { modelName } userErrors { code } }
    }`;
    const result = await h.query<{ updateDevice: { device: { modelName: string } } }, unknown>(document, { id: SEED_DEVICE_ID });
    expect(result.body.data!.updateDevice.device.modelName).toBe('Pico Ultimate 2');
    const after = await h.query<{ device: { modelName: string } }, unknown>(READ, { id: SEED_DEVICE_ID });
    expect(after.body.data!.device.modelName).toBe('Pico Ultimate 2');
    expect(reads(h, SEED_DEVICE_ID)).toBe(1); // the update's authorization read, past the cache; the read after it is cached
  });

  const longText = 'x'.repeat(256);
  const invalid: Array<[string, Record<string, unknown>, string[], string]> = [
    ['a blank referenceId', { referenceId: '   ' }, ['input', 'referenceId'], 'blank'],
    ['a referenceId over 255 characters', { referenceId: longText }, ['input', 'referenceId'], 'too_long'],
    ['a referenceId with a control character', { referenceId: 'A\u0007B' }, ['input', 'referenceId'], 'invalid_format'],
    ['a location that is not a location id', { referenceId: 'R', locations: ['dev_1'] }, ['input', 'locations', '0'], 'invalid_format'],
    ['a location listed twice', { referenceId: 'R', locations: ['loc_a', 'loc_a'] }, ['input', 'locations'], 'duplicate'],
    [
      'more than 50 locations',
      { referenceId: 'R', locations: Array.from({ length: 51 }, (_, i) => `loc_${i}`) },
      ['input', 'locations'],
      'too_many',
    ],
    ['a manufacturer over 255 characters', { referenceId: 'R', manufacturer: longText }, ['input', 'manufacturer'], 'too_long'],
    ['a blank modelCode', { referenceId: 'R', modelCode: '' }, ['input', 'modelCode'], 'blank'],
    ['a modelName over 255 characters', { referenceId: 'R', modelName: longText }, ['input', 'modelName'], 'too_long'],
    ['a tilt above 90°', { referenceId: 'R', properties: { pvTilt: 90.5 } }, ['input', 'properties', 'pvTilt'], 'out_of_range'],
    ['a negative tilt', { referenceId: 'R', properties: { pvTilt: -1 } }, ['input', 'properties', 'pvTilt'], 'out_of_range'],
    ['an azimuth above 360°', { referenceId: 'R', properties: { pvAzimuth: 361 } }, ['input', 'properties', 'pvAzimuth'], 'out_of_range'],
    ['a negative azimuth', { referenceId: 'R', properties: { pvAzimuth: -0.1 } }, ['input', 'properties', 'pvAzimuth'], 'out_of_range'],
    [
      'a negative import rating',
      { referenceId: 'R', properties: { powerRatingImportKwh: -7 } },
      ['input', 'properties', 'powerRatingImportKwh'],
      'out_of_range',
    ],
    [
      'a negative export rating',
      { referenceId: 'R', properties: { powerRatingExportKwh: -1 } },
      ['input', 'properties', 'powerRatingExportKwh'],
      'out_of_range',
    ],
    ['a negative capacity', { referenceId: 'R', properties: { capacityKwh: -1 } }, ['input', 'properties', 'capacityKwh'], 'out_of_range'],
    ['an absurd capacity', { referenceId: 'R', properties: { capacityKwh: 1e12 } }, ['input', 'properties', 'capacityKwh'], 'out_of_range'],
    [
      'an install date that is not a date',
      { referenceId: 'R', properties: { installDate: 'last spring' } },
      ['input', 'properties', 'installDate'],
      'invalid_format',
    ],
    [
      'an install date without an offset',
      { referenceId: 'R', properties: { installDate: '2024-05-01T10:00:00' } },
      ['input', 'properties', 'installDate'],
      'invalid_format',
    ],
    ['a clientMutationId over 255 characters', { referenceId: 'R', clientMutationId: longText }, ['input', 'clientMutationId'], 'too_long'],
  ];

  it.each(invalid)('refuses %s as a user error at its field, without calling Flatpeak', async (_name, input, field, code) => {
    const { status, body } = await h.query<{ createDevice: Written }, unknown>(CREATE, { input });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data!.createDevice.device).toBeNull();
    expect(body.data!.createDevice.userErrors).toEqual([{ field, code, message: expect.any(String) }]);
    expect(h.standin.requests.filter((request) => request.path.startsWith('/devices'))).toEqual([]);
  });

  it('reports every problem of an input at once', async () => {
    const { body } = await h.query<{ createDevice: Written }, unknown>(CREATE, {
      input: { referenceId: '', properties: { pvTilt: 100, pvAzimuth: 400 } },
    });
    expect(body.data!.createDevice.userErrors.map((error) => error.field!.join('.')).sort()).toEqual([
      'input.properties.pvAzimuth',
      'input.properties.pvTilt',
      'input.referenceId',
    ]);
  });

  it('needs a referenceId from a caller who has no reference of its own, and a change in an update', async () => {
    const create = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { modelName: 'X' } });
    expect(create.body.data!.createDevice.userErrors).toEqual([
      { field: ['input', 'referenceId'], code: 'required', message: 'referenceId is required' },
    ]);
    const update = await h.query<{ updateDevice: Written }, unknown>(UPDATE, { id: SEED_DEVICE_ID, input: { modelName: null } });
    expect(update.body.data!.updateDevice.userErrors).toEqual([{ field: ['input'], code: 'required', message: expect.any(String) }]);
    expect(writes(h)).toEqual([]);
  });

  it('refuses a type outside the enum and a bad device id before anything runs', async () => {
    const badType = await h.query(CREATE, { input: { referenceId: 'R', type: 'TOASTER' } });
    expect(badType.status).toBe(400);
    expect(badType.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badId = await h.query<{ updateDevice: Written }, unknown>(UPDATE, { id: 'nope', input: { modelName: 'X' } });
    expect(badId.body.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(h.standin.requests.filter((request) => request.path.startsWith('/devices'))).toEqual([]);
  });

  const refusals: Array<[number, string, string[] | null]> = [
    [400, 'reference_id_invalid', ['input', 'referenceId']],
    [400, 'pv_tilt_invalid', ['input', 'properties', 'pvTilt']],
    [404, 'location_not_found', ['input', 'locations']],
    [409, 'device_exists', null],
    [422, 'device_limit_reached', null],
  ];

  it.each(refusals)("maps Flatpeak's %i %s to a user error with Flatpeak's code and message", async (status, code, field) => {
    h.standin.setFault(faultOn('/devices', { status, code }));
    const { body } = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { referenceId: 'R', locations: ['loc_a'] } });
    expect(body.errors).toBeUndefined();
    expect(body.data!.createDevice).toEqual({
      device: null,
      userErrors: [{ field, code, message: 'Injected fault' }],
      clientMutationId: null,
    });
  });

  it("answers like Flatpeak itself: the stand-in's validation and error object", async () => {
    const login = await fetch(new URL('/login', h.standin.url), {
      headers: { authorization: `Basic ${Buffer.from(`${DEMO_ACCOUNT_ID}:${DEMO_API_KEY}`).toString('base64')}` },
    });
    const { bearer_token: token } = (await login.json()) as { bearer_token: string };
    const send = async (method: string, path: string, body: unknown) => {
      const response = await fetch(new URL(path, h.standin.url), {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/devices', { type: 'OTHER' }, 400, 'reference_id_missing'],
      ['POST', '/devices', { reference_id: 'R', type: 'TOASTER' }, 400, 'type_invalid'],
      ['POST', '/devices', { reference_id: 'R', locations: ['nope'] }, 400, 'locations_invalid'],
      ['POST', '/devices', { reference_id: 'R', properties: { pv_tilt: 120 } }, 400, 'pv_tilt_invalid'],
      ['POST', '/devices', { reference_id: 'R', properties: { install_date: 'soon' } }, 400, 'install_date_invalid'],
      ['PATCH', `/devices/${SEED_DEVICE_ID}`, { model_name: 'X' }, 400, 'reference_id_missing'],
      ['PATCH', '/devices/dev_doesnotexist', { reference_id: 'R' }, 404, 'device_not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await send(method, path, body);
      expect([method, path, answer.status, answer.body]).toEqual([
        method,
        path,
        status,
        {
          object: 'error',
          live_mode: false,
          context: 'api.standin',
          type: 'invalid_request',
          code,
          message: expect.any(String),
          time_created: expect.any(String),
        },
      ]);
    }
    expect(h.standin.device(SEED_DEVICE_ID)!.model_name).not.toBe('X');
  });

  it.each([
    [401, 'unauthorized', 'UPSTREAM_UNAVAILABLE'],
    [403, 'forbidden', 'FORBIDDEN'],
    [422, 'account_disabled', 'FORBIDDEN'],
    [429, 'rate_limited', 'RATE_LIMITED'],
    [500, 'api_error', 'UPSTREAM_UNAVAILABLE'],
  ])('keeps Flatpeak’s %i (%s) an error (%s), as for reads, not a user error', async (status, code, expected) => {
    h.standin.setFault((request) => (request.method === 'POST' ? { status, code } : undefined));
    const { body } = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { referenceId: 'R' } });
    expect(body.data).toBeNull();
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual([expected]);
  });

  it('does not retry a POST that got a 503, or whose connection was reset: it may have reached Flatpeak', async () => {
    h.standin.setFault(faultOn('/devices', { status: 503 }));
    const unavailable = await h.query(CREATE, { input: { referenceId: 'R' } });
    expect(unavailable.body.errors?.map((error) => error.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(h.standin.count('/devices')).toBe(1);

    h.standin.resetLog();
    h.standin.setFault((request) => (request.method === 'PATCH' ? { reset: true } : undefined));
    const reset = await h.query(UPDATE, { id: SEED_DEVICE_ID, input: { modelName: 'X' } });
    expect(reset.body.errors?.map((error) => error.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(writes(h)).toHaveLength(1);

    // A read that meets the same 503 is retried (an id not read before, so the cache stays out of it).
    h.standin.resetLog();
    const other = sampleDevices()[5]!;
    h.standin.setFault(faultOn(`/devices/${other.id}`, { status: 503 }, 1));
    const read = await h.query<{ device: { id: string } }, unknown>('query ($id: ID!) { device(id: $id) { id } }', { id: other.id });
    expect(read.body.data!.device.id).toBe(other.id);
    expect(h.standin.count(`/devices/${other.id}`)).toBe(2);
  });

  it('sends an Idempotency-Key derived from clientMutationId: a repeated create makes one device', async () => {
    const input = { referenceId: 'HOME-7', modelName: 'Wallbox 11', clientMutationId: 'attempt-1' };
    const first = await h.query<{ createDevice: Written }, unknown>(CREATE, { input });
    const second = await h.query<{ createDevice: Written }, unknown>(CREATE, { input });
    expect(first.body.data!.createDevice.clientMutationId).toBe('attempt-1');
    expect(second.body.data!.createDevice.device!.id).toBe(first.body.data!.createDevice.device!.id);
    const [a, b] = writes(h);
    const key = a!.headers['idempotency-key'];
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // a SHA-256, not the client's id itself
    expect(b!.headers['idempotency-key']).toBe(key);
    // Without a clientMutationId, no key.
    await h.query(CREATE, { input: { referenceId: 'HOME-7' } });
    expect(writes(h)[2]!.headers).not.toHaveProperty('idempotency-key');
    // The same id for different input: Flatpeak's refusal, as a user error.
    const reused = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { ...input, modelName: 'Other' } });
    expect(reused.body.data!.createDevice.userErrors).toEqual([
      { field: null, code: 'idempotency_key_reused', message: expect.any(String) },
    ]);
  });
});

describe('a write whose connection is refused', () => {
  let h: Harness;
  let refusals = 0;
  let closedPort: number;
  beforeAll(async () => {
    // A port nobody listens on: connecting to it is refused before a byte is sent.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const connector = buildConnector({});
    // Pass-through: no login, so the POST is the first request and needs a new connection.
    h = await startHarness({
      mode: 'pass-through',
      env: { FLATPEAK_MAX_RETRIES: '2' },
      // While `refusals` lasts, connections go to the closed port; then to the stand-in.
      dispatcher: () =>
        new Agent({
          connect: (options, callback) => {
            if (refusals > 0) {
              refusals -= 1;
              return connector({ ...options, port: String(closedPort) }, callback);
            }
            return connector(options, callback);
          },
        }),
    });
  });
  afterAll(() => h.close());

  it('is retried, and reaches Flatpeak once', async () => {
    // Prove the port refuses, so the test cannot pass for another reason.
    await expect(
      new Promise((resolve, reject) => {
        const socket = connect(closedPort, '127.0.0.1');
        socket.on('connect', () => resolve(socket.destroy()));
        socket.on('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    refusals = 1;
    const { body } = await h.query<{ createDevice: Written }, unknown>(
      CREATE,
      { input: { referenceId: 'RETRY-1' } },
      { authorization: 'Bearer caller-token' },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.createDevice.device!.referenceId).toBe('RETRY-1');
    expect(refusals).toBe(0);
    expect(writes(h)).toHaveLength(1);
  });
});

describe('who may write (CALLER_AUTH=jwt)', () => {
  const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });
  let idp: IdentityProvider;
  let h: Harness;
  const tokens = { a: '', b: '', reader: '', admin: '' };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: { devices: [...sampleDevices(), device('dev_a1', 'user-a'), device('dev_b1', 'user-b')] },
      env: { CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    tokens.a = await idp.token({ claims: { sub: 'user-a', scope: 'devices:write' } });
    tokens.b = await idp.token({ claims: { sub: 'user-b', scope: 'devices:write' } });
    tokens.reader = await idp.token({ claims: { sub: 'user-r' } });
    tokens.admin = await idp.token({ claims: { sub: 'backoffice', scope: 'devices:read:all devices:write' } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });
  beforeEach(() => h.standin.resetLog());

  it("creates a user's device under the user's own reference", async () => {
    const { body } = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { modelName: 'Mine' } }, as(tokens.a));
    expect(body.data!.createDevice.device).toMatchObject({ referenceId: 'user-a', modelName: 'Mine' });
    expect(writes(h)[0]!.body).toMatchObject({ reference_id: 'user-a' });
    // …which the user can then read, and the other user cannot.
    const id = body.data!.createDevice.device!.id;
    expect((await h.query<{ device: unknown }, unknown>(READ, { id }, as(tokens.a))).body.data!.device).toMatchObject({ id });
    expect((await h.query(READ, { id }, as(tokens.b))).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("refuses a user's create or update under someone else's reference, without calling Flatpeak", async () => {
    const create = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { referenceId: 'user-b' } }, as(tokens.a));
    expect(create.body.data!.createDevice.userErrors).toEqual([
      { field: ['input', 'referenceId'], code: 'not_allowed', message: expect.any(String) },
    ]);
    const update = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_a1', input: { referenceId: 'user-b' } },
      as(tokens.a),
    );
    expect(update.body.data!.updateDevice.userErrors).toEqual([
      { field: ['input', 'referenceId'], code: 'not_allowed', message: expect.any(String) },
    ]);
    expect(writes(h)).toEqual([]);
    expect(h.standin.device('dev_a1')!.reference_id).toBe('user-a');
  });

  it("answers an update of another user's device like a device that does not exist, and leaves it alone", async () => {
    const { body } = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_a1', input: { modelName: 'Stolen' } },
      as(tokens.b),
    );
    expect(body.data).toBeNull();
    expect(body.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([['NOT_FOUND', 'No device dev_a1']]);
    expect(writes(h)).toEqual([]);
    expect(h.standin.device('dev_a1')!.model_name).toBe(seedDevice.model_name);
  });

  it('lets a user update its own device, keeping its reference', async () => {
    const { body } = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_b1', input: { modelName: 'Renamed' } },
      as(tokens.b),
    );
    expect(body.data!.updateDevice).toMatchObject({
      userErrors: [],
      device: { id: 'dev_b1', referenceId: 'user-b', modelName: 'Renamed' },
    });
    expect(writes(h).map((request: SeenRequest) => request.body)).toEqual([{ reference_id: 'user-b', model_name: 'Renamed' }]);
    // The service's own Flatpeak token wrote it; the caller's JWT never went upstream.
    expect(JSON.stringify(h.standin.requests)).not.toContain(tokens.b);
  });

  it('refuses writes without the devices:write scope (FORBIDDEN) and without a token (401), without calling Flatpeak', async () => {
    const reader = await h.query(CREATE, { input: { referenceId: 'user-r' } }, as(tokens.reader));
    expect(reader.body.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const readerUpdate = await h.query(UPDATE, { id: 'dev_a1', input: { modelName: 'X' } }, as(tokens.reader));
    expect(readerUpdate.body.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const anonymous = await h.query(CREATE, { input: { referenceId: 'user-a' } });
    expect(anonymous.status).toBe(401);
    expect(h.standin.requests.filter((request) => request.path.startsWith('/devices'))).toEqual([]);
  });

  it('lets devices:read:all choose any reference, and requires one', async () => {
    const forB = await h.query<{ createDevice: Written }, unknown>(
      CREATE,
      { input: { referenceId: 'user-b', modelName: 'For B' } },
      as(tokens.admin),
    );
    expect(forB.body.data!.createDevice.device).toMatchObject({ referenceId: 'user-b' });
    const none = await h.query<{ createDevice: Written }, unknown>(CREATE, { input: { modelName: 'Nobody' } }, as(tokens.admin));
    expect(none.body.data!.createDevice.userErrors.map((error) => error.code)).toEqual(['required']);
  });

  it("derives different Idempotency-Keys for two users' identical clientMutationIds", async () => {
    await h.query(CREATE, { input: { clientMutationId: 'same' } }, as(tokens.a));
    await h.query(CREATE, { input: { clientMutationId: 'same' } }, as(tokens.b));
    const [a, b] = writes(h).map((request) => request.headers['idempotency-key']);
    expect(a).toBeTruthy();
    expect(b).toBeTruthy();
    expect(a).not.toBe(b);
  });
});

describe('who may change whose a device is and where (CALLER_AUTH=jwt, shared locations)', () => {
  // Carol owns her devices by reference; Alice reads them only because she shares their location.
  const HOME = 'loc_carolhome';
  const carols = (id: string): RawDevice => ({ ...seedDevice, id, reference_id: 'carol', locations: [HOME] });
  let idp: IdentityProvider;
  let h: Harness;
  const tokens = { alice: '', carol: '', admin: '' };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: { devices: [carols('dev_c1'), carols('dev_c2'), carols('dev_c3')] },
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_REFERENCE_CLAIM: 'references',
        AUTH_LOCATIONS_CLAIM: 'locations',
      },
    });
    tokens.alice = await idp.token({ claims: { sub: 'alice', scope: 'devices:write', references: ['alice'], locations: [HOME] } });
    // Carol is part of her office's location: she may place her devices there (device-placement.test.ts).
    tokens.carol = await idp.token({
      claims: { sub: 'carol', scope: 'devices:write', references: ['carol', 'carol-office'], locations: ['loc_carolwork'] },
    });
    tokens.admin = await idp.token({ claims: { sub: 'backoffice', scope: 'devices:read:all devices:write' } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });
  beforeEach(() => h.standin.resetLog());

  const notAllowed = (field: string) => ({ field: ['input', field], code: 'not_allowed', message: expect.any(String) });

  it.each([
    ['take it and hide it', { referenceId: 'alice', locations: [] }, [notAllowed('referenceId'), notAllowed('locations')]],
    ['take it', { referenceId: 'alice' }, [notAllowed('referenceId')]],
    ['move it away', { locations: ['loc_alicehome'], modelName: 'Mine now' }, [notAllowed('locations')]],
  ])('refuses a location-sharer’s attempt to %s, writes nothing, and leaves it to its owner', async (_name, input, userErrors) => {
    const { body } = await h.query<{ updateDevice: Written }, unknown>(UPDATE, { id: 'dev_c1', input }, as(tokens.alice));
    expect(body.errors).toBeUndefined();
    expect(body.data!.updateDevice).toEqual({ device: null, userErrors, clientMutationId: null });
    expect(writes(h)).toEqual([]);
    const owner = await h.query<{ device: Record<string, unknown> }, unknown>(READ, { id: 'dev_c1' }, as(tokens.carol));
    expect(owner.body.data!.device).toMatchObject({ referenceId: 'carol', locations: [{ id: HOME }] });
  });

  it('lets a location-sharer change the other fields, keeping the owner’s reference and locations', async () => {
    const { body } = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_c3', input: { modelName: 'Kitchen battery' } },
      as(tokens.alice),
    );
    expect(body.data!.updateDevice).toMatchObject({
      userErrors: [],
      device: { referenceId: 'carol', modelName: 'Kitchen battery', locations: [{ id: HOME }] },
    });
    expect(writes(h).map((request) => request.body)).toEqual([{ reference_id: 'carol', model_name: 'Kitchen battery' }]);
  });

  it('lets a location-sharer send the owner’s fields unchanged, as an edit form does', async () => {
    const input = { referenceId: 'carol', locations: [HOME], modelName: 'Garage battery' };
    const { body } = await h.query<{ updateDevice: Written }, unknown>(UPDATE, { id: 'dev_c3', input }, as(tokens.alice));
    expect(body.data!.updateDevice).toMatchObject({
      userErrors: [],
      device: { referenceId: 'carol', modelName: 'Garage battery', locations: [{ id: HOME }] },
    });
    expect(writes(h)).toHaveLength(1);
  });

  it('lets the owner move her device among her references and locations, and devices:read:all move it too', async () => {
    const moved = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_c2', input: { referenceId: 'carol-office', locations: ['loc_carolwork'] } },
      as(tokens.carol),
    );
    expect(moved.body.data!.updateDevice).toMatchObject({
      userErrors: [],
      device: { referenceId: 'carol-office', locations: [{ id: 'loc_carolwork' }] },
    });
    // No longer at the shared location: Alice cannot read it any more.
    expect((await h.query(READ, { id: 'dev_c2' }, as(tokens.alice))).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const back = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_c2', input: { referenceId: 'carol', locations: [HOME] } },
      as(tokens.admin),
    );
    expect(back.body.data!.updateDevice).toMatchObject({ userErrors: [], device: { referenceId: 'carol', locations: [{ id: HOME }] } });
  });
});
