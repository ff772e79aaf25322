import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RawDevice, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

/**
 * Issue 21, finding 9: a user must not place a device at a location she is not part of,
 * where it would show up for that location's members (AUTH_LOCATIONS_CLAIM), neither by
 * creating it there nor by moving her own device there.
 */
const ALICE_HOME = 'loc_alicehome';
const BOB_HOME = 'loc_bobhome';
const PAYLOAD = 'device { id referenceId locations { id } } userErrors { field message code }';
const CREATE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { ${PAYLOAD} } }`;
const READ = 'query ($id: ID!) { device(id: $id) { id } }';

interface Written {
  device: { id: string; referenceId: string; locations: Array<{ id: string }> } | null;
  userErrors: Array<{ field: string[] | null; message: string; code: string }>;
}

describe('where a user may place a device (CALLER_AUTH=jwt, AUTH_LOCATIONS_CLAIM)', () => {
  let idp: IdentityProvider;
  let h: Harness;
  const tokens = { alice: '', bob: '', admin: '' };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const writes = () => h.standin.requests.filter((request) => request.method === 'POST' || request.method === 'PATCH');
  const alices: RawDevice = { ...seedDevice, id: 'dev_alice1', reference_id: 'alice', locations: [ALICE_HOME] };

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: { devices: [alices] },
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_REFERENCE_CLAIM: 'references',
        AUTH_LOCATIONS_CLAIM: 'locations',
      },
    });
    tokens.alice = await idp.token({ claims: { sub: 'alice', scope: 'devices:write', references: ['alice'], locations: [ALICE_HOME] } });
    tokens.bob = await idp.token({ claims: { sub: 'bob', scope: 'devices:write', references: ['bob'], locations: [BOB_HOME] } });
    tokens.admin = await idp.token({ claims: { sub: 'backoffice', scope: 'devices:read:all devices:write' } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });
  beforeEach(() => h.standin.resetLog());

  const refusedAt = (index: number, location: string) => [
    { field: ['input', 'locations', String(index)], code: 'not_allowed', message: expect.stringContaining(location) as unknown },
  ];

  it('refuses alice a new device at bob’s location, naming it, and creates nothing', async () => {
    const { body } = await h.query<{ createDevice: Written }, unknown>(
      CREATE,
      { input: { modelName: 'Planted', locations: [ALICE_HOME, BOB_HOME] } },
      as(tokens.alice),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.createDevice).toEqual({ device: null, userErrors: refusedAt(1, BOB_HOME) });
    expect(writes()).toEqual([]);
  });

  it('refuses alice moving her own device to bob’s location; it stays where it was, out of bob’s sight', async () => {
    const { body } = await h.query<{ updateDevice: Written }, unknown>(
      UPDATE,
      { id: 'dev_alice1', input: { locations: [BOB_HOME] } },
      as(tokens.alice),
    );
    expect(body.data!.updateDevice).toEqual({ device: null, userErrors: refusedAt(0, BOB_HOME) });
    expect(writes()).toEqual([]);
    expect(h.standin.device('dev_alice1')!.locations).toEqual([ALICE_HOME]);
    const bob = await h.query(READ, { id: 'dev_alice1' }, as(tokens.bob));
    expect(bob.body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('lets alice place devices at her own locations, and devices:read:all anywhere', async () => {
    const own = await h.query<{ createDevice: Written }, unknown>(
      CREATE,
      { input: { modelName: 'Hers', locations: [ALICE_HOME] } },
      as(tokens.alice),
    );
    expect(own.body.data!.createDevice).toMatchObject({
      userErrors: [],
      device: { referenceId: 'alice', locations: [{ id: ALICE_HOME }] },
    });
    const admin = await h.query<{ createDevice: Written }, unknown>(
      CREATE,
      { input: { referenceId: 'bob', locations: [BOB_HOME] } },
      as(tokens.admin),
    );
    expect(admin.body.data!.createDevice).toMatchObject({ userErrors: [], device: { referenceId: 'bob', locations: [{ id: BOB_HOME }] } });
  });
});
