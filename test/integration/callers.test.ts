import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { type RawDevice, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { composeSupergraph, startGateway } from '../support/gateway.ts';
import { codesByPath, type GraphQLResponse, type Harness, startHarness } from '../support/harness.ts';
import { startLocationsSubgraph } from '../support/locations-subgraph.ts';
import {
  AUDIENCE,
  hmacWithPublicKey,
  type IdentityProvider,
  ISSUER,
  startIdentityProvider,
  unsignedToken,
} from '../support/identity-provider.ts';

/** Devices of two users, A (seven, for three pages of three) and B (two), and one B sees by location. */
const device = (id: string, referenceId: string, day: number, locations: string[] = []): RawDevice => ({
  ...seedDevice,
  id,
  reference_id: referenceId,
  locations,
  time_created: `2024-03-${String(day).padStart(2, '0')}T10:00:00Z`,
});
const A = Array.from({ length: 7 }, (_, i) => device(`dev_a${i + 1}`, 'user-a', i + 1));
const B = [device('dev_b1', 'user-b', 10), device('dev_b2', 'user-b', 11)];
const AT_B_HOME = device('dev_c1', 'installer-7', 12, ['loc_bhome']);
const devices = [...sampleDevices(), ...A, ...B, AT_B_HOME];

let idp: IdentityProvider;
let h: Harness;
let logs = '';
const tokens: Record<'a' | 'b' | 'admin', string> = { a: '', b: '', admin: '' };

const authEnv = (idpUrl: URL, extra: Record<string, string> = {}) => ({
  CALLER_AUTH: 'jwt',
  AUTH_JWKS_URL: idpUrl.href,
  AUTH_ISSUER: ISSUER,
  AUTH_AUDIENCE: AUDIENCE,
  AUTH_LOCATIONS_CLAIM: 'locations',
  ...extra,
});

beforeAll(async () => {
  idp = await startIdentityProvider();
  const logger = createLogger('debug', { write: (line: string) => void (logs += line) });
  h = await startHarness({ standin: { devices }, env: authEnv(idp.jwksUrl), logger });
  tokens.a = await idp.token({ claims: { sub: 'user-a' } });
  tokens.b = await idp.token({ claims: { sub: 'user-b', locations: ['loc_bhome'] }, alg: 'ES256' });
  tokens.admin = await idp.token({ claims: { sub: 'backoffice', scope: 'openid devices:read:all' }, alg: 'EdDSA' });
});
afterAll(async () => {
  await h.close();
  await idp.close();
});
beforeEach(() => h.standin.resetLog());

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const DEVICE = 'query ($id: ID!) { device(id: $id) { id referenceId } }';

describe('CALLER_AUTH=jwt: who is calling', () => {
  it('serves a caller with a valid token, and never forwards that token to Flatpeak', async () => {
    const { status, body } = await h.query(DEVICE, { id: 'dev_a1' }, as(tokens.a));
    expect(status).toBe(200);
    expect(body).toEqual({ data: { device: { id: 'dev_a1', referenceId: 'user-a' } } });
    const call = h.standin.requests.find((request) => request.path === '/devices/dev_a1')!;
    expect(call.headers.authorization).toMatch(/^Bearer eyJstandin\./); // the service's Flatpeak token
    expect(JSON.stringify(h.standin.requests)).not.toContain(tokens.a);
  });

  it('accepts every default algorithm: RS256, ES256 and EdDSA', async () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const token = await idp.token({ claims: { sub: 'user-a' }, alg });
      expect((await h.query(DEVICE, { id: 'dev_a2' }, as(token))).body.data).toEqual({ device: { id: 'dev_a2', referenceId: 'user-a' } });
    }
  });

  const now = () => Math.floor(Date.now() / 1000);
  const badTokens: Array<[string, () => Promise<string> | string]> = [
    ['expired (beyond the 30 s leeway)', () => idp.token({ claims: { sub: 'user-a' }, expiresIn: -60 })],
    ['not valid yet (nbf beyond the leeway)', () => idp.token({ claims: { sub: 'user-a', nbf: now() + 120 } })],
    ['from another issuer', () => idp.token({ claims: { sub: 'user-a', iss: 'https://evil.example/' } })],
    ['for another audience', () => idp.token({ claims: { sub: 'user-a', aud: 'another-service' } })],
    ['without a subject', () => idp.token({ claims: {} })],
    ['with a subject that is not a string', () => idp.token({ claims: { sub: ['user-a'] as unknown as string } })],
    ['with alg: none', () => unsignedToken({ iss: ISSUER, aud: AUDIENCE, sub: 'user-a', exp: now() + 600 })],
    [
      'HS256 signed with the published public key',
      () => hmacWithPublicKey(idp.publicKeyBytes, { iss: ISSUER, aud: AUDIENCE, sub: 'user-a', exp: now() + 600 }),
    ],
    ['signed by a key the identity provider does not publish', () => idp.token({ claims: { sub: 'user-a' }, unpublished: true })],
    [
      'with a tampered payload',
      async () => {
        const [header, , signature] = (await idp.token({ claims: { sub: 'user-b' } })).split('.');
        const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'user-a', exp: now() + 600 })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
    [
      'with a tampered signature',
      async () => {
        const token = await idp.token({ claims: { sub: 'user-a' } });
        return `${token.slice(0, -6)}${token.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
      },
    ],
    ['that is not a JWT', () => 'not-a-jwt'],
  ];

  it.each(badTokens)('refuses a token %s: HTTP 401, UNAUTHENTICATED, no upstream call, token not logged', async (_name, make) => {
    const token = await make();
    logs = '';
    const { status, headers, body } = await h.query(DEVICE, { id: 'dev_a1' }, as(token));
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(body.data).toBeUndefined();
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(body.errors?.[0]?.extensions).not.toHaveProperty('http');
    expect(JSON.stringify(body)).not.toContain(token);
    expect(h.standin.count('/devices')).toBe(0);
    expect(logs).not.toContain(token.split('.')[1] || token);
  });

  it('refuses a request without a token with HTTP 401, but serves the schema to anyone', async () => {
    const anonymous = await h.query(DEVICE, { id: 'dev_a1' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const viaFragment = await h.query('query { ...Q } fragment Q on Query { __typename ... on Query { myDevices { edges { cursor } } } }');
    expect(viaFragment.status).toBe(401);

    const schema = await h.query('{ __typename _service { sdl } __schema { queryType { name } } }');
    expect(schema.status).toBe(200);
    expect(schema.body.errors).toBeUndefined();
    expect(h.standin.count('/devices')).toBe(0);
  });

  it('refuses a subscription without a token with HTTP 401 before any stream opens', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { deviceUpdated(id: "dev_a1") { id } }' }),
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('UNAUTHENTICATED');
    expect(h.standin.count('/devices')).toBe(0);
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const { status, body } = await h.query(DEVICE, { id: 'dev_a1' }, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    expect(status).toBe(401);
    expect(codesByPath(body)).toEqual({ '': 'UNAUTHENTICATED' });
  });
});

describe('CALLER_AUTH=jwt: which devices a caller may read', () => {
  it('B never obtains A’s device: device, devices, aliases all answer exactly like a device that does not exist', async () => {
    const missing = await h.query(DEVICE, { id: 'dev_doesnotexist' }, as(tokens.b));
    const denied = await h.query(DEVICE, { id: 'dev_a1' }, as(tokens.b));
    expect(denied.body.data).toEqual({ device: null });
    expect(denied.body.errors).toEqual([{ ...missing.body.errors![0]!, message: 'No device dev_a1' }]);
    expect(missing.body.errors![0]!.message).toBe('No device dev_doesnotexist');

    const list = await h.query(
      '{ devices(ids: ["dev_b1", "dev_a1", "dev_b2", "dev_a2"]) { id } mine: device(id: "dev_b1") { id } theirs: device(id: "dev_a3") { id } }',
      undefined,
      as(tokens.b),
    );
    expect(list.body.data).toEqual({ devices: [{ id: 'dev_b1' }, null, { id: 'dev_b2' }, null], mine: { id: 'dev_b1' }, theirs: null });
    expect(codesByPath(list.body)).toEqual({ 'devices.1': 'NOT_FOUND', 'devices.3': 'NOT_FOUND', theirs: 'NOT_FOUND' });
    expect(JSON.stringify(list.body)).not.toContain('user-a');
  });

  it('answers a malformed device of someone else like a missing one, and its owner with the real error', async () => {
    h.standin.setFault((request) =>
      request.path === '/devices/dev_a6'
        ? { status: 200, contentType: 'application/json', body: JSON.stringify({ id: 'dev_a6', reference_id: 'user-a' }) }
        : undefined,
    );
    try {
      const stranger = await h.query(DEVICE, { id: 'dev_a6' }, as(tokens.b));
      expect(stranger.body.errors).toEqual([
        { message: 'No device dev_a6', locations: [expect.any(Object)], path: ['device'], extensions: { code: 'NOT_FOUND' } },
      ]);
      const owner = await h.query(DEVICE, { id: 'dev_a6' }, as(tokens.a));
      expect(codesByPath(owner.body)).toEqual({ device: 'UPSTREAM_BAD_RESPONSE' });
    } finally {
      h.standin.setFault(undefined);
    }
  });

  it('logs each denial at info with the request id and the caller, never the token', async () => {
    logs = '';
    await h.query(DEVICE, { id: 'dev_a4' }, { ...as(tokens.b), 'x-request-id': 'req-denial-1' });
    const line = logs.split('\n').find((text) => text.includes('device access denied'));
    expect(JSON.parse(line!)).toMatchObject({ level: 30, requestId: 'req-denial-1', caller: 'sub:user-b', device: 'dev_a4' });
    expect(logs).not.toContain(tokens.b.split('.')[2]!);
  });

  it('lets B read a device at one of its locations (AUTH_LOCATIONS_CLAIM)', async () => {
    const { body } = await h.query(DEVICE, { id: 'dev_c1' }, as(tokens.b));
    expect(body).toEqual({ data: { device: { id: 'dev_c1', referenceId: 'installer-7' } } });
    expect((await h.query(DEVICE, { id: 'dev_c1' }, as(tokens.a))).body.data).toEqual({ device: null });
  });

  it('lets a devices:read:all caller read everyone’s devices', async () => {
    const { body } = await h.query('{ devices(ids: ["dev_a1", "dev_b1", "dev_c1"]) { referenceId } }', undefined, as(tokens.admin));
    expect(body).toEqual({ data: { devices: [{ referenceId: 'user-a' }, { referenceId: 'user-b' }, { referenceId: 'installer-7' }] } });
  });

  it('applies the rule to _entities as well', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Device { id } } }';
    const representations = [
      { __typename: 'Device', id: 'dev_b1' },
      { __typename: 'Device', id: 'dev_a1' },
    ];
    const { body } = await h.query(query, { r: representations }, as(tokens.b));
    expect(body.data).toEqual({ _entities: [{ id: 'dev_b1' }, null] });
    expect(codesByPath(body)).toEqual({ '_entities.1': 'NOT_FOUND' });
  });
});

describe('through the router (Apollo Gateway propagating Authorization)', () => {
  it('resolves _entities under the caller’s own rule: a location’s device of someone else is NOT_FOUND', async () => {
    const locations = await startLocationsSubgraph();
    const { supergraphSdl } = await composeSupergraph({ devices: h.url, locations: locations.url });
    const gateway = await startGateway(supergraphSdl!);
    try {
      // Sample devices 2 and 3 are at locations of their own; this caller owns device 2 only.
      const [own, other] = sampleDevices().filter((d) => d.reference_id === 'SAMPLE-002' || d.reference_id === 'SAMPLE-003');
      const token = await idp.token({ claims: { sub: 'SAMPLE-002' } });
      const ask = async (location: string) => {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': `gw-${location}` },
          body: JSON.stringify({ query: `{ location(id: "${location}") { id devices { id referenceId } } }` }),
        });
        return (await response.json()) as { data?: unknown; errors?: Array<{ path?: unknown[]; extensions?: { code?: string } }> };
      };
      const mine = await ask((own!.locations as string[])[0]!);
      expect(mine).toEqual({
        data: { location: { id: (own!.locations as string[])[0], devices: [{ id: own!.id, referenceId: 'SAMPLE-002' }] } },
      });
      const theirs = await ask((other!.locations as string[])[0]!);
      expect(theirs.data).toEqual({ location: null });
      expect(theirs.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(theirs)).not.toContain('SAMPLE-003');
      // Flatpeak was asked for each device once, on behalf of the request that wanted it.
      expect(h.standin.requests.map((request) => [request.path, request.headers['x-request-id']])).toEqual([
        [`/devices/${own!.id}`, `gw-${(own!.locations as string[])[0]}`],
        [`/devices/${other!.id}`, `gw-${(other!.locations as string[])[0]}`],
      ]);
    } finally {
      await gateway.close();
      await locations.close();
    }
  });
});

describe('myDevices and deviceList', () => {
  const MY =
    'query ($first: Int, $after: String) { myDevices(first: $first, after: $after) { edges { cursor node { id referenceId } } pageInfo { hasNextPage hasPreviousPage endCursor } } }';
  type Page = {
    myDevices: { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  };

  it('pages through A’s devices, newest first, over Flatpeak’s cursors: three pages of 3, 3 and 1', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    do {
      const { body }: { body: GraphQLResponse<Page> } = await h.query<Page, unknown>(MY, { first: 3, after }, as(tokens.a));
      expect(body.errors).toBeUndefined();
      seen.push(...body.data!.myDevices.edges.map((edge) => edge.node.id));
      pages.push(body.data!.myDevices.pageInfo.hasNextPage);
      after = body.data!.myDevices.pageInfo.endCursor;
    } while (pages.at(-1));
    expect(seen).toEqual(['dev_a7', 'dev_a6', 'dev_a5', 'dev_a4', 'dev_a3', 'dev_a2', 'dev_a1']);
    expect(pages).toEqual([true, true, false]);
    const listCalls = h.standin.requests.filter((request) => request.path.startsWith('/devices?'));
    expect(listCalls.map((request) => request.path)).toEqual([
      '/devices?limit=3&reference_id=user-a',
      '/devices?limit=3&starting_after=dev_a5&reference_id=user-a',
      '/devices?limit=3&starting_after=dev_a2&reference_id=user-a',
    ]);
  });

  it('lists only B’s own devices for B (the ones B sees by location are not B’s)', async () => {
    const { body } = await h.query<Page, unknown>('{ myDevices { edges { node { id } } } }', undefined, as(tokens.b));
    expect(body.data?.myDevices.edges.map((edge) => edge.node.id)).toEqual(['dev_b2', 'dev_b1']);
    expect(h.standin.requests.map((request) => request.path)).toEqual(['/devices?limit=30&reference_id=user-b']);
  });

  it('refuses as a cursor a device the caller may not read, without listing', async () => {
    const { body } = await h.query(MY, { first: 3, after: 'dev_a5' }, as(tokens.b));
    expect(codesByPath(body)).toEqual({ myDevices: 'BAD_USER_INPUT' });
    expect(h.standin.requests.filter((request) => request.path.startsWith('/devices?'))).toHaveLength(0);
  });

  it('checks first and after before any call', async () => {
    for (const variables of [{ first: 0 }, { first: 101 }, { after: 'not-a-cursor' }]) {
      const { body } = await h.query(MY, variables, as(tokens.a));
      expect(codesByPath(body)).toEqual({ myDevices: 'BAD_USER_INPUT' });
    }
    expect(h.standin.count('/devices')).toBe(0);
  });

  it('deviceList is for devices:read:all only', async () => {
    const LIST = '{ deviceList(first: 100) { edges { node { referenceId } } } }';
    const refused = await h.query(LIST, undefined, as(tokens.a));
    expect(codesByPath(refused.body)).toEqual({ deviceList: 'FORBIDDEN' });
    expect(h.standin.count('/devices')).toBe(0);
    const { body } = await h.query<{ deviceList: { edges: Array<{ node: { referenceId: string } }> } }, unknown>(
      LIST,
      undefined,
      as(tokens.admin),
    );
    const references = new Set(body.data?.deviceList.edges.map((edge) => edge.node.referenceId));
    expect(references).toContain('user-a');
    expect(references).toContain('user-b');
    const filtered = await h.query('{ deviceList(referenceId: "user-b") { edges { node { id } } } }', undefined, as(tokens.admin));
    expect(filtered.body.data).toEqual({ deviceList: { edges: [{ node: { id: 'dev_b2' } }, { node: { id: 'dev_b1' } }] } });
  });
});

describe('JWKS: rotation and refetch limits', () => {
  it('accepts a token signed by a newly published key after one key-set fetch', async () => {
    const rotating = await startHarness({ standin: { devices }, env: authEnv(idp.jwksUrl, { AUTH_JWKS_COOLDOWN_MS: '0' }) });
    try {
      expect((await rotating.query(DEVICE, { id: 'dev_a1' }, as(tokens.a))).status).toBe(200);
      const before = idp.jwksFetches;
      await idp.rotate('RS256');
      const fresh = await idp.token({ claims: { sub: 'user-a' } });
      const { status, body } = await rotating.query(DEVICE, { id: 'dev_a1' }, as(fresh));
      expect(status).toBe(200);
      expect(body.data).toEqual({ device: { id: 'dev_a1', referenceId: 'user-a' } });
      expect(idp.jwksFetches - before).toBe(1);
    } finally {
      await rotating.close();
    }
  });

  it('does not refetch the key set for each token with an unknown key id (at most once per 30 s)', async () => {
    await h.query(DEVICE, { id: 'dev_a1' }, as(tokens.a)); // key set loaded
    const before = idp.jwksFetches;
    for (let i = 0; i < 20; i += 1) {
      const forged = await idp.token({ claims: { sub: 'user-a' }, unpublished: true });
      const [, payload, signature] = forged.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: `made-up-${i}` })).toString('base64url');
      expect((await h.query(DEVICE, { id: 'dev_a1' }, as(`${header}.${payload}.${signature}`))).status).toBe(401);
    }
    expect(idp.jwksFetches - before).toBeLessThanOrEqual(1);
  });
});

describe('per-caller limits', () => {
  it('counts device loads per caller: a noisy caller gets RATE_LIMITED without upstream calls, another caller is served', async () => {
    const limited = await startHarness({
      standin: { devices },
      env: authEnv(idp.jwksUrl, { RATE_LIMIT_PER_SECOND: '0.5', RATE_LIMIT_BURST: '4' }),
    });
    try {
      const ids = A.map((d) => d.id);
      const noisy = await limited.query<{ devices: Array<{ id: string } | null> }, unknown>(
        'query ($ids: [ID!]!) { devices(ids: $ids) { id } }',
        { ids },
        as(tokens.a),
      );
      expect(noisy.status).toBe(200);
      expect(noisy.body.data?.devices.filter(Boolean)).toHaveLength(4);
      const limitedErrors = noisy.body.errors!.filter((error) => error.extensions?.code === 'RATE_LIMITED');
      expect(limitedErrors).toHaveLength(3);
      for (const error of limitedErrors) expect(error.extensions?.retryAfterMs).toBeGreaterThan(0);
      expect(limited.standin.count('/devices/')).toBe(4);

      // A's bucket is empty; B's is full.
      const quiet = await limited.query('{ devices(ids: ["dev_b1", "dev_b2"]) { id } }', undefined, as(tokens.b));
      expect(quiet.body).toEqual({ data: { devices: [{ id: 'dev_b1' }, { id: 'dev_b2' }] } });
      const again = await limited.query(DEVICE, { id: 'dev_a1' }, as(tokens.a));
      expect(codesByPath(again.body)).toEqual({ device: 'RATE_LIMITED' });
      expect(limited.standin.count('/devices/')).toBe(6);
    } finally {
      await limited.close();
    }
  });
});
