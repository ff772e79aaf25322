import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/limits.ts';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { codesByPath, type GraphQLResponse, type Harness, startHarness } from '../support/harness.ts';
import { composeWithTheGuild, HIVE_GATEWAY_CONFIG, type HiveGateway, startHiveGateway } from '../support/hive-gateway.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { LOCATIONS_SDL, type LocationsSubgraph, startLocationsSubgraph } from '../support/locations-subgraph.ts';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.ts';
import { subscribeSse } from '../support/sse.ts';

/**
 * Hive Gateway (a real `hive-gateway` process, configured by examples/hive-gateway/gateway.config.ts)
 * over the supergraph The Guild's composition makes of the committed schema.graphql and a
 * foreign locations subgraph. A recording proxy in front of each subgraph counts and shows
 * what the gateway sent it.
 */

const SEED_LOCATION_ID = 'loc_641b90b758fb8e6293716e40';
const seed = sampleDevices().find((device) => device.id === SEED_DEVICE_ID)!;
const someoneElses = sampleDevices()[5]!;

let idp: IdentityProvider;
let h: Harness;
let locations: LocationsSubgraph;
let devicesProxy: RecordingProxy;
let locationsProxy: RecordingProxy;
let gateway: HiveGateway;
let owner: string; // the seed device's owner (its reference is the token's sub)
let reader: string; // devices:read:all

beforeAll(async () => {
  idp = await startIdentityProvider();
  [h, locations] = await Promise.all([
    startHarness({
      env: {
        DEVICE_POLL_INTERVAL_MS: '100',
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
      },
    }),
    startLocationsSubgraph(),
  ]);
  [devicesProxy, locationsProxy] = await Promise.all([startRecordingProxy(h.url), startRecordingProxy(locations.url)]);
  const supergraph = composeWithTheGuild([
    { name: 'devices', sdl: await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8'), url: devicesProxy.url },
    { name: 'locations', sdl: LOCATIONS_SDL, url: locationsProxy.url },
  ]);
  gateway = await startHiveGateway(supergraph, { AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
  owner = await idp.token({ claims: { sub: seed.reference_id } });
  reader = await idp.token({ claims: { sub: 'support-desk', scope: 'devices:read:all' } });
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await Promise.all([devicesProxy?.close(), locationsProxy?.close()]);
  await Promise.all([h?.close(), locations?.close(), idp?.close()]);
});
beforeEach(() => {
  h.standin.resetLog();
  devicesProxy.requests.length = 0;
  locationsProxy.requests.length = 0;
});

async function viaGateway(query: string, token?: string): Promise<{ status: number; body: GraphQLResponse<Record<string, unknown>> }> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...bearer(token) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

const ALL_DEVICE_FIELDS = `id liveMode referenceId manufacturer modelCode modelName timeCreated accountId lastSeen flexEnabled
  properties { powerRatingImportKwh capacityKwh }`;

describe('Hive Gateway over the running facade', () => {
  it('resolves every field of a device here and its locations’ names there, as the subgraph answers it directly', async () => {
    const direct = await h.query<{ device: Record<string, unknown> }, undefined>(
      `{ device(id: "${SEED_DEVICE_ID}") { ${ALL_DEVICE_FIELDS} locations { id } } }`,
      undefined,
      bearer(owner),
    );
    expect(direct.body.errors).toBeUndefined();
    h.standin.resetLog();

    const { status, body } = await viaGateway(
      `{ device(id: "${SEED_DEVICE_ID}") { ${ALL_DEVICE_FIELDS} locations { id name timezone } } }`,
      owner,
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const location = locations.locations.get(SEED_LOCATION_ID)!;
    expect(body.data).toEqual({
      device: { ...direct.body.data?.device, locations: [{ id: SEED_LOCATION_ID, name: location.name, timezone: location.timezone }] },
    });
    expect(devicesProxy.requests).toHaveLength(1);
    expect(locationsProxy.requests).toHaveLength(1);
    expect(locationsProxy.requests[0]!.body?.query).toContain('_entities');
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('passes the caller’s JWT to this subgraph only, never to the locations team’s service', async () => {
    const { body } = await viaGateway(`{ device(id: "${SEED_DEVICE_ID}") { modelName locations { name } } }`, owner);
    expect(body.errors).toBeUndefined();
    expect(devicesProxy.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${owner}`]);
    expect(locationsProxy.requests).toHaveLength(1);
    expect(locationsProxy.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('keeps partial errors with their codes: a missing device and someone else’s are NOT_FOUND, the caller’s own is there', async () => {
    const { status, body } = await viaGateway(`{ devices(ids: ["${SEED_DEVICE_ID}", "dev_gone", "${someoneElses.id}"]) { id } }`, owner);
    expect(status).toBe(200);
    expect(body.data).toEqual({ devices: [{ id: SEED_DEVICE_ID }, null, null] });
    expect(codesByPath(body)).toEqual({ 'devices.1': 'NOT_FOUND', 'devices.2': 'NOT_FOUND' });
  });

  it('fetches many devices as entities in one _entities call: one upstream GET per distinct device, all in flight at once', async () => {
    const picked = [...locations.locations.values()].slice(0, 12);
    const distinct = new Set(picked.flatMap((location) => location.deviceIds));
    expect(distinct.size).toBe(12);
    h.standin.holdUntilConcurrent(distinct.size);

    const { body } = await viaGateway(
      `{ locations(ids: ${JSON.stringify(picked.map((location) => location.id))}) { name devices { id modelName } } }`,
      reader,
    );

    expect(body.errors).toBeUndefined();
    const byId = new Map(sampleDevices().map((device) => [device.id, device]));
    expect(body.data?.locations).toEqual(
      picked.map((location) => ({
        name: location.name,
        devices: location.deviceIds.map((id) => ({ id, modelName: byId.get(id)!.model_name })),
      })),
    );
    expect(devicesProxy.requests).toHaveLength(1);
    expect(devicesProxy.requests[0]!.body?.query).toMatch(/_entities\(representations:/);
    expect(h.standin.count('/devices/')).toBe(distinct.size);
    expect(h.standin.maxInFlight).toBe(distinct.size);
  });

  it('refuses @authenticated fields to an anonymous caller at the gateway, calling no subgraph', async () => {
    const { body } = await viaGateway(`{ device(id: "${SEED_DEVICE_ID}") { id } }`);
    expect(body.data?.device ?? null).toBeNull();
    // Hive's generic-auth code for a field the caller may not have.
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    expect(devicesProxy.requests).toHaveLength(0);
    expect(locationsProxy.requests).toHaveLength(0);
  });

  it('refuses @requiresScopes fields to a caller without the scope at the gateway, calling no subgraph', async () => {
    const { body } = await viaGateway('{ deviceList(first: 1) { edges { node { id } } } }', owner);
    expect(body.data?.deviceList ?? null).toBeNull();
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    expect(devicesProxy.requests).toHaveLength(0);

    const allowed = await viaGateway('{ deviceList(first: 1) { edges { node { id } } } }', reader);
    expect(allowed.body.errors).toBeUndefined();
    expect(devicesProxy.requests).toHaveLength(1);
  });

  it('refuses a token the identity provider did not sign, calling no subgraph', async () => {
    const forged = await idp.token({ claims: { sub: seed.reference_id }, unpublished: true });
    const { status } = await viaGateway(`{ device(id: "${SEED_DEVICE_ID}") { id } }`, forged);
    expect(status).toBe(401);
    expect(devicesProxy.requests).toHaveLength(0);
  });

  it('streams deviceUpdated through the gateway (SSE from the client and from the gateway to the subgraph)', async () => {
    const stream = await subscribeSse(
      gateway.url,
      `subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { id modelName } }`,
      {},
      bearer(owner),
    );
    try {
      expect(await stream.next()).toEqual({ data: { deviceUpdated: { id: SEED_DEVICE_ID, modelName: seed.model_name } } });
      h.standin.modify(SEED_DEVICE_ID, { model_name: 'Renamed upstream' });
      expect(await stream.next()).toEqual({ data: { deviceUpdated: { id: SEED_DEVICE_ID, modelName: 'Renamed upstream' } } });
    } finally {
      stream.close();
      h.standin.modify(SEED_DEVICE_ID, { model_name: seed.model_name });
    }
    expect(devicesProxy.requests[0]!.headers.accept).toContain('text/event-stream');
    expect(devicesProxy.requests[0]!.headers.authorization).toBe(`Bearer ${owner}`);
  });
});

describe('demand control at the gateway (@cost, @listSize)', () => {
  // devices(ids:) is estimated at its most ids (@listSize(assumedSize: 100)), each device
  // weighing 2 (@cost on Device): 200 per field, whatever the ids.
  const aliases = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `d${i}: devices(ids: ["${SEED_DEVICE_ID}"]) { id }`).join(' ')} }`;

  it('budgets with the subgraph’s own cost limit', async () => {
    const config = await readFile(new URL(`../../${HIVE_GATEWAY_CONFIG}`, import.meta.url), 'utf8');
    expect(Number(/export const MAX_COST = ([\d_]+);/.exec(config)![1]!.replaceAll('_', ''))).toBe(LIMITS.cost.value);
  });

  it('lets an operation within the budget through (25 devices(ids:) fields: 5,000)', async () => {
    const { body } = await viaGateway(aliases(25), owner);
    expect(body.errors).toBeUndefined();
    expect(Object.keys(body.data!)).toHaveLength(25);
    expect(devicesProxy.requests).toHaveLength(1);
  });

  it('refuses an over-budget operation before calling the subgraph (26 fields: 5,200)', async () => {
    const { body } = await viaGateway(aliases(26), owner);
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(devicesProxy.requests).toHaveLength(0);
    expect(h.standin.count()).toBe(0);
  });

  it('sizes a listing by its first argument', async () => {
    // DeviceConnection 1 + first × (DeviceEdge 1 + Device 2): 100 → 301 each; 17 → 5,117.
    const page = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `p${i}: myDevices(first: 100) { edges { node { id } } }`).join(' ')} }`;
    const { body } = await viaGateway(page(17), owner);
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(devicesProxy.requests).toHaveLength(0);

    // Without first, its default (30): 1 + 30 × 3 = 91 each; 55 → 5,005.
    const unsized = `{ ${Array.from({ length: 55 }, (_, i) => `p${i}: myDevices { edges { node { id } } }`).join(' ')} }`;
    const defaulted = await viaGateway(unsized, owner);
    expect(defaulted.body.errors?.map((error) => error.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(devicesProxy.requests).toHaveLength(0);
  });
});
