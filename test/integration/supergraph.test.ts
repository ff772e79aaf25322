import { Trace } from '@apollo/usage-reporting-protobuf';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { CAPTURE_TRACES_HEADER, composeSupergraph, type Gateway, startGateway } from '../support/gateway.ts';
import { type GraphQLResponse, type Harness, startHarness } from '../support/harness.ts';
import { LOCATIONS_SDL, type LocationsSubgraph, startLocationsSubgraph } from '../support/locations-subgraph.ts';

const SEED_LOCATION_ID = 'loc_641b90b758fb8e6293716e40';

async function gatewayQuery(
  gateway: Gateway,
  query: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: GraphQLResponse<Record<string, unknown>> }> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** Every fetch node of a query-plan trace, depth first. */
function fetchNodes(node: Trace.IQueryPlanNode | null | undefined): Trace.QueryPlanNode.IFetchNode[] {
  if (!node) return [];
  return [
    ...(node.fetch ? [node.fetch] : []),
    ...(node.sequence?.nodes ?? []).flatMap(fetchNodes),
    ...(node.parallel?.nodes ?? []).flatMap(fetchNodes),
    ...fetchNodes(node.flatten?.node),
  ];
}

const responseNames = (trace: Trace): string[] => (trace.root?.child ?? []).map((child) => child.responseName ?? '');

describe('composition', () => {
  it('composes the committed schema.graphql with the locations subgraph, without errors', async () => {
    const result = await composeSupergraph({
      devices: new URL('http://devices.invalid/graphql'),
      locations: new URL('http://locations.invalid/graphql'),
    });
    expect(result.errors?.map((error) => error.message)).toBeUndefined();
    expect(result.supergraphSdl).toMatch(/DEVICES @join__graph\(name: "devices"/);
    expect(result.supergraphSdl).toMatch(
      /type Location\s+@join__type\(graph: DEVICES, key: "id", resolvable: false\)\s+@join__type\(graph: LOCATIONS, key: "id"\)/,
    );
  });

  it('carries @authenticated and @requiresScopes into the supergraph, for a router to enforce before calling', async () => {
    const { supergraphSdl } = await composeSupergraph({
      devices: new URL('http://devices.invalid/graphql'),
      locations: new URL('http://locations.invalid/graphql'),
    });
    for (const field of ['device', 'devices', 'myDevices']) {
      expect(supergraphSdl).toMatch(new RegExp(`\\n  ${field}\\([^]*?\\): [^\\n]*@authenticated[ \\n]`));
    }
    expect(supergraphSdl).toMatch(
      /\n {2}deviceList\([^]*?\): DeviceConnection! @join__field\(graph: DEVICES\) @requiresScopes\(scopes: \[\["devices:read:all"\]\]\)[ \n]/,
    );
  });

  it('reports a composition error when the subgraphs disagree (so the test above can fail)', async () => {
    const { composeServices } = await import('@apollo/composition');
    const { parse } = await import('graphql');
    const { readFile } = await import('node:fs/promises');
    const devices = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    const result = composeServices([
      { name: 'devices', typeDefs: parse(devices), url: 'http://devices.invalid/graphql' },
      {
        name: 'locations',
        typeDefs: parse(
          LOCATIONS_SDL.replace('type Location @key(fields: "id") {\n    id: ID!', 'type Location @key(fields: "id") {\n    id: Int!'),
        ),
        url: 'http://locations.invalid/graphql',
      },
    ]);
    expect(result.errors?.map((error) => error.message).join('\n')).toMatch(/Location\.id/);
  });
});

describe('Apollo Gateway over the running facade (service credentials)', () => {
  let h: Harness;
  let locations: LocationsSubgraph;
  let gateway: Gateway;
  beforeAll(async () => {
    [h, locations] = await Promise.all([startHarness({ env: { FTV1_TRACES: 'on' } }), startLocationsSubgraph()]);
    const { supergraphSdl, errors } = await composeSupergraph({ devices: h.url, locations: locations.url });
    if (!supergraphSdl) throw new Error(`composition failed: ${errors?.map((error) => error.message).join('; ')}`);
    gateway = await startGateway(supergraphSdl);
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([h?.close(), locations?.close()]);
  });
  beforeEach(() => {
    h.standin.resetLog();
    gateway.fetches.length = 0;
    gateway.queryPlanTraces.length = 0;
  });

  it('resolves a query across both subgraphs: the device here, its locations’ time zones there', async () => {
    const { status, body } = await gatewayQuery(gateway, `{ device(id: "${SEED_DEVICE_ID}") { modelName locations { id timezone } } }`);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: { device: { modelName: 'Pico Ultimate', locations: [{ id: SEED_LOCATION_ID, timezone: 'Europe/London' }] } },
    });
    expect(gateway.fetches.map((fetch) => fetch.subgraph)).toEqual(['devices', 'locations']);
    expect(gateway.fetches[1]!.query).toContain('_entities');
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('fetches many devices as entities in one _entities call: N distinct ids, N concurrent GETs, one loader batch', async () => {
    const picked = [...locations.locations.values()].slice(0, 12);
    const deviceIds = picked.flatMap((location) => location.deviceIds);
    const distinct = new Set(deviceIds);
    expect(distinct.size).toBe(12);
    // The first location twice: its device is referenced twice in the same request.
    const ids = [...picked.map((location) => location.id), picked[0]!.id];
    h.standin.holdUntilConcurrent(distinct.size);

    const { body } = await gatewayQuery(gateway, `{ locations(ids: ${JSON.stringify(ids)}) { id country devices { id modelName } } }`);

    expect(body.errors).toBeUndefined();
    const byId = new Map(sampleDevices().map((device) => [device.id, device]));
    expect(body.data?.locations).toEqual(
      ids.map((id) => ({
        id,
        country: locations.locations.get(id)!.country,
        devices: locations.locations.get(id)!.deviceIds.map((deviceId) => ({ id: deviceId, modelName: byId.get(deviceId)!.model_name })),
      })),
    );
    const deviceFetches = gateway.fetches.filter((fetch) => fetch.subgraph === 'devices');
    expect(deviceFetches).toHaveLength(1);
    expect(deviceFetches[0]!.query).toMatch(/_entities\(representations:\s*\$representations\)/);
    const representations = deviceFetches[0]!.variables.representations as Array<{ __typename: string; id: string }>;
    expect(new Set(representations.map((representation) => representation.id))).toEqual(distinct);
    expect(representations).toHaveLength(13);
    // The gateway passes the duplicate on (13 representations); the facade's loader fetches
    // each device once, all of them at the same time.
    expect(h.standin.count('/devices/')).toBe(distinct.size);
    expect(new Set(h.standin.requests.map((request) => request.path))).toEqual(new Set([...distinct].map((id) => `/devices/${id}`)));
    expect(h.standin.maxInFlight).toBe(distinct.size);
  });

  it('sends an ftv1 trace to the gateway when it asks for one, and none otherwise', async () => {
    const query = `{ device(id: "${SEED_DEVICE_ID}") { modelName locations { timezone } } }`;
    const traced = await gatewayQuery(gateway, query, { [CAPTURE_TRACES_HEADER]: 'true' });
    expect(traced.body.errors).toBeUndefined();
    const tracedFetch = gateway.fetches.find((fetch) => fetch.subgraph === 'devices')!;
    expect(tracedFetch.headers['apollo-federation-include-trace']).toBe('ftv1');
    expect(tracedFetch.ftv1).toEqual(expect.any(String));
    // The gateway decoded it into its query-plan trace.
    const devicesFetch = fetchNodes(gateway.queryPlanTraces[0]).find((node) => node.serviceName === 'devices')!;
    expect(devicesFetch.traceParsingFailed).toBe(false);
    expect(responseNames(devicesFetch.trace as Trace)).toEqual(['device']);

    gateway.fetches.length = 0;
    const untraced = await gatewayQuery(gateway, query);
    expect(untraced.body).toEqual(traced.body);
    const untracedFetch = gateway.fetches.find((fetch) => fetch.subgraph === 'devices')!;
    expect(untracedFetch.headers['apollo-federation-include-trace']).toBeUndefined();
    expect(untracedFetch.ftv1).toBeUndefined();
  });
});

describe('Apollo Gateway with subgraph automatic persisted queries (PERSISTED_OPERATIONS=allow)', () => {
  let h: Harness;
  let locations: LocationsSubgraph;
  let gateway: Gateway;
  beforeAll(async () => {
    [h, locations] = await Promise.all([startHarness(), startLocationsSubgraph()]);
    const { supergraphSdl } = await composeSupergraph({ devices: h.url, locations: locations.url });
    gateway = await startGateway(supergraphSdl!, { apq: true });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([h?.close(), locations?.close()]);
  });

  it('sends the document once, then only its hash', async () => {
    const query = `{ device(id: "${SEED_DEVICE_ID}") { modelCode } }`;
    const first = await gatewayQuery(gateway, query);
    expect(first.body).toEqual({ data: { device: { modelCode: 'PICOXN2' } } });
    const second = await gatewayQuery(gateway, query);
    expect(second.body).toEqual(first.body);
    const toDevices = gateway.sent.filter((body) => body.subgraph === 'devices');
    expect(
      toDevices.map((body) => ({ query: body.query !== undefined, hashed: body.extensions?.persistedQuery?.sha256Hash !== undefined })),
    ).toEqual([
      { query: false, hashed: true }, // PERSISTED_QUERY_NOT_FOUND
      { query: true, hashed: true }, // registered
      { query: false, hashed: true }, // the second request: hash alone
    ]);
  });
});

describe('federated tracing on a direct request', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { FTV1_TRACES: 'on' } });
  });
  afterAll(() => h.close());

  it('adds extensions.ftv1 only when apollo-federation-include-trace: ftv1 is sent', async () => {
    const query = `{ device(id: "${SEED_DEVICE_ID}") { modelName } }`;
    const traced = await h.query(query, undefined, { 'apollo-federation-include-trace': 'ftv1' });
    const ftv1 = (traced.body.extensions as { ftv1?: string } | undefined)?.ftv1;
    expect(ftv1).toEqual(expect.any(String));
    const trace = Trace.decode(Buffer.from(ftv1!, 'base64'));
    expect(responseNames(trace)).toEqual(['device']);
    expect(Number(trace.durationNs)).toBeGreaterThan(0);

    const plain = await h.query(query);
    expect(plain.body).toEqual({ data: { device: { modelName: 'Pico Ultimate' } } });
    const other = await h.query(query, undefined, { 'apollo-federation-include-trace': 'something-else' });
    expect(other.body.extensions).toBeUndefined();
  });
});

describe('Apollo Gateway over the running facade (pass-through credentials)', () => {
  let h: Harness;
  let locations: LocationsSubgraph;
  let gateway: Gateway;
  beforeAll(async () => {
    [h, locations] = await Promise.all([startHarness({ mode: 'pass-through' }), startLocationsSubgraph()]);
    const { supergraphSdl } = await composeSupergraph({ devices: h.url, locations: locations.url });
    gateway = await startGateway(supergraphSdl!);
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([h?.close(), locations?.close()]);
  });

  it('passes the caller’s Authorization and request id through the gateway to Flatpeak', async () => {
    const { body } = await gatewayQuery(gateway, `{ device(id: "${SEED_DEVICE_ID}") { modelName locations { timezone } } }`, {
      authorization: 'Bearer caller-through-router',
      'x-request-id': 'router-req-42',
    });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ device: { modelName: 'Pico Ultimate', locations: [{ timezone: 'Europe/London' }] } });
    const upstream = h.standin.requests.filter((request) => request.path.startsWith('/devices/'));
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.headers.authorization).toBe('Bearer caller-through-router');
    expect(upstream[0]!.headers['x-request-id']).toBe('router-req-42');
  });

  it('without a caller token, the device is null with UNAUTHENTICATED and Flatpeak is not called', async () => {
    h.standin.resetLog();
    const { body } = await gatewayQuery(gateway, `{ device(id: "${SEED_DEVICE_ID}") { modelName } }`);
    expect(body.data).toEqual({ device: null });
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(h.standin.count()).toBe(0);
  });
});
