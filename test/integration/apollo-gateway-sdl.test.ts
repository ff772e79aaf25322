import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { composeSupergraph, type Gateway, startGateway } from '../support/gateway.ts';
import { codesByPath, type GraphQLResponse, type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { type LocationsSubgraph, startLocationsSubgraph } from '../support/locations-subgraph.ts';

/**
 * SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES=true, for companies on Apollo Gateway (JS), which
 * refuses a supergraph with `for: SECURITY` features: the SDL the subgraph serves composes
 * and runs under Apollo Gateway as it is, and the subgraph still refuses what those
 * directives would have refused at a router.
 */

const seed = sampleDevices().find((device) => device.id === SEED_DEVICE_ID)!;
const SERVICE_SDL = '{ _service { sdl } }';

let idp: IdentityProvider;
let h: Harness;
let plain: Harness;
let locations: LocationsSubgraph;
let gateway: Gateway;
let sdl: string;

const auth = () => ({ CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });

beforeAll(async () => {
  idp = await startIdentityProvider();
  [h, plain, locations] = await Promise.all([
    startHarness({ env: { ...auth(), SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES: 'true' } }),
    startHarness({ env: auth() }),
    startLocationsSubgraph(),
  ]);
  sdl = (await h.query<{ _service: { sdl: string } }, undefined>(SERVICE_SDL)).body.data?._service.sdl ?? '';
  const { supergraphSdl, errors } = await composeSupergraph({ devices: h.url, locations: locations.url }, sdl);
  if (!supergraphSdl) throw new Error(`composition failed: ${errors?.map((error) => error.message).join('; ')}`);
  gateway = await startGateway(supergraphSdl, { stripSecurityFeatures: false });
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([h?.close(), plain?.close(), locations?.close(), idp?.close()]);
});

async function viaGateway(query: string, token?: string): Promise<GraphQLResponse<Record<string, unknown>>> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as never;
}

describe('SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES=true', () => {
  it('serves _service.sdl without @authenticated or @requiresScopes, everything else kept', async () => {
    expect(sdl).not.toMatch(/@authenticated|@requiresScopes/);
    expect(sdl).toContain('import: ["@key", "@cost", "@listSize"]');
    expect(sdl).toMatch(/type Device\s+@key\(fields: "id"\)/);
    expect(sdl).toContain('@listSize(slicingArguments: ["first"], sizedFields: ["edges"])');
    const full = (await plain.query<{ _service: { sdl: string } }, undefined>(SERVICE_SDL)).body.data?._service.sdl ?? '';
    expect(full).toContain('@authenticated');
  });

  it('Apollo Gateway refuses the default SDL’s supergraph as composed, which is why the setting exists', async () => {
    const { supergraphSdl } = await composeSupergraph({ devices: plain.url, locations: locations.url });
    await expect(startGateway(supergraphSdl!, { stripSecurityFeatures: false })).rejects.toThrow(/SECURITY/);
  });

  it('composes and serves under Apollo Gateway without edits: a caller reads their device and its locations', async () => {
    const owner = await idp.token({ claims: { sub: seed.reference_id } });
    const body = await viaGateway(`{ device(id: "${SEED_DEVICE_ID}") { modelName locations { timezone } } }`, owner);
    expect(body).toEqual({ data: { device: { modelName: seed.model_name, locations: [{ timezone: 'Europe/London' }] } } });
  });

  it('the subgraph itself still refuses an anonymous caller (what @authenticated said) without calling Flatpeak', async () => {
    h.standin.resetLog();
    gateway.sent.length = 0;
    const body = await viaGateway(`{ device(id: "${SEED_DEVICE_ID}") { modelName } }`);
    expect(body.data).toEqual({ device: null });
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    // The gateway let it through (it knows no @authenticated); the subgraph refused it.
    expect(gateway.sent.map((sent) => sent.subgraph)).toEqual(['devices']);
    expect(h.standin.count()).toBe(0);
  });

  it('the subgraph itself still refuses a caller without the scope (what @requiresScopes said)', async () => {
    const owner = await idp.token({ claims: { sub: seed.reference_id } });
    const listing = await viaGateway('{ deviceList(first: 1) { edges { node { id } } } }', owner);
    expect(codesByPath(listing)).toEqual({ deviceList: 'FORBIDDEN' });
    const write = await viaGateway(
      `mutation { updateDevice(id: "${SEED_DEVICE_ID}", input: { modelName: "x" }) { device { id } } }`,
      owner,
    );
    expect(codesByPath(write)).toEqual({ updateDevice: 'FORBIDDEN' });
  });
});
