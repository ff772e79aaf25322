import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RawDevice, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

/**
 * Issue 21, finding 1: with the device cache on, a write must not be authorized on (nor
 * build its body from) the cached copy of a device. Ownership changes made elsewhere (another
 * replica, Flatpeak's own app) reach this replica's cache only when its entry expires; until
 * then the cached copy says the attacker still owns the device, or that a location is
 * still there.
 */
const HOME = 'loc_sharedhome';
const CABIN = 'loc_carolcabin';
const UPDATE = `mutation ($id: ID!, $input: UpdateDeviceInput!) {
  updateDevice(id: $id, input: $input) { device { id referenceId locations { id } } userErrors { field code } }
}`;
const READ = 'query ($id: ID!) { device(id: $id) { id referenceId locations { id } } }';

const device = (id: string, referenceId: string, locations: string[]): RawDevice => ({
  ...seedDevice,
  id,
  reference_id: referenceId,
  locations,
});

describe('writes authorize on a fresh read, not on the cached copy (CALLER_AUTH=jwt, device cache on)', () => {
  let idp: IdentityProvider;
  let h: Harness;
  const tokens = { alice: '', bob: '' };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const patches = () => h.standin.requests.filter((request) => request.method === 'PATCH');

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: {
        devices: [device('dev_alice1', 'alice', []), device('dev_carol1', 'carol', [HOME, CABIN]), device('dev_carol2', 'carol', [HOME])],
      },
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_REFERENCE_CLAIM: 'references',
        AUTH_LOCATIONS_CLAIM: 'locations',
        // An hour: every read below would be served from the cache.
        DEVICE_CACHE_TTL_MS: '3600000',
      },
    });
    tokens.alice = await idp.token({ claims: { sub: 'alice', scope: 'devices:write', references: ['alice'], locations: [HOME] } });
    tokens.bob = await idp.token({ claims: { sub: 'bob', scope: 'devices:write', references: ['bob'] } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });
  beforeEach(() => h.standin.resetLog());

  it('does not let alice take back a device reassigned to bob while her copy is cached', async () => {
    // Alice reads her device: the cache now holds it as hers.
    const before = await h.query<{ device: { referenceId: string } }, unknown>(READ, { id: 'dev_alice1' }, as(tokens.alice));
    expect(before.body.data!.device.referenceId).toBe('alice');
    // The device is handed to bob elsewhere (Flatpeak's own app, another replica).
    h.standin.modify('dev_alice1', { reference_id: 'bob' });
    h.standin.resetLog();

    for (const input of [{ modelName: 'Mine again' }, { referenceId: 'alice', modelName: 'Mine again' }]) {
      const attack = await h.query(UPDATE, { id: 'dev_alice1', input }, as(tokens.alice));
      expect(attack.body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    }
    expect(patches()).toEqual([]);
    expect(h.standin.device('dev_alice1')).toMatchObject({ reference_id: 'bob', model_name: seedDevice.model_name });
    // Bob still has it.
    const bobs = await h.query<{ device: { referenceId: string } }, unknown>(READ, { id: 'dev_alice1' }, as(tokens.bob));
    expect(bobs.body.data!.device.referenceId).toBe('bob');
  });

  it('does not let a location-sharer restore a location the owner removed, as "no change"', async () => {
    const before = await h.query<{ device: { locations: unknown[] } }, unknown>(READ, { id: 'dev_carol1' }, as(tokens.alice));
    expect(before.body.data!.device.locations).toEqual([{ id: HOME }, { id: CABIN }]);
    // Carol takes the device out of her cabin, elsewhere.
    h.standin.modify('dev_carol1', { locations: [HOME] });
    h.standin.resetLog();

    // Alice's edit form still shows both locations, and sends them back.
    const attack = await h.query<{ updateDevice: { userErrors: Array<{ field: string[]; code: string }> } }, unknown>(
      UPDATE,
      { id: 'dev_carol1', input: { referenceId: 'carol', locations: [HOME, CABIN], modelName: 'Cabin battery' } },
      as(tokens.alice),
    );
    expect(attack.body.data!.updateDevice.userErrors).toEqual([{ field: ['input', 'locations'], code: 'not_allowed' }]);
    expect(patches()).toEqual([]);
    expect(h.standin.device('dev_carol1')!.locations).toEqual([HOME]);
  });

  it('answers a write to a device moved away from the shared location like a missing one', async () => {
    await h.query(READ, { id: 'dev_carol2' }, as(tokens.alice));
    h.standin.modify('dev_carol2', { locations: [CABIN] });
    h.standin.resetLog();
    const attack = await h.query(UPDATE, { id: 'dev_carol2', input: { modelName: 'Still mine to rename' } }, as(tokens.alice));
    expect(attack.body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(patches()).toEqual([]);
    expect(h.standin.device('dev_carol2')!.model_name).toBe(seedDevice.model_name);
  });

  it('builds the PATCH from the fresh copy: the owner’s current reference, read past the cache', async () => {
    await h.query(READ, { id: 'dev_carol2' }, as(tokens.alice)); // cached, whatever it says
    h.standin.modify('dev_carol2', { reference_id: 'carol', locations: [HOME] });
    h.standin.resetLog();
    const edit = await h.query<{ updateDevice: { userErrors: unknown[] } }, unknown>(
      UPDATE,
      { id: 'dev_carol2', input: { modelName: 'Hall battery' } },
      as(tokens.alice),
    );
    expect(edit.body.data!.updateDevice.userErrors).toEqual([]);
    // One GET for the write's own authorization, whatever the cache held.
    expect(h.standin.requests.filter((request) => request.method === 'GET').map((request) => request.path)).toEqual([
      '/devices/dev_carol2',
    ]);
    expect(patches().map((request) => request.body)).toEqual([{ reference_id: 'carol', model_name: 'Hall battery' }]);
  });
});
