// Issue 21, finding 3: with the device cache on, a device of someone else's that sits in the
// cache was refused from the cache (~5 ms) while a missing id cost a Flatpeak call (~48 ms),
// so its timing told an attacker which ids exist. A refusal must cost what a miss costs: the
// same upstream read, which the stand-in counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawDevice, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });
const DEVICE = 'query ($id: ID!) { device(id: $id) { id referenceId } }';
/** Flatpeak's latency as the attacker measured it, so that the printed timings mean something. */
const UPSTREAM_LATENCY_MS = 40;

let idp: IdentityProvider;
let h: Harness;
const tokens = { alice: '', bob: '' };
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const gets = (id: string) => h.standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;

beforeAll(async () => {
  idp = await startIdentityProvider();
  h = await startHarness({
    standin: { devices: [...sampleDevices(), device('dev_alice1', 'alice'), device('dev_bob1', 'bob'), device('dev_bob2', 'bob')] },
    env: {
      CALLER_AUTH: 'jwt',
      AUTH_JWKS_URL: idp.jwksUrl.href,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      DEVICE_CACHE_TTL_MS: '600000',
    },
  });
  h.standin.setFault((request) => (request.path.startsWith('/devices/') ? { delayMs: UPSTREAM_LATENCY_MS } : undefined));
  tokens.alice = await idp.token({ claims: { sub: 'alice' } });
  tokens.bob = await idp.token({ claims: { sub: 'bob' } });
});
afterAll(async () => {
  await h.close();
  await idp.close();
});

/** Alice reads `id`: what she is answered, how many GETs of it Flatpeak saw, and how long it took. */
async function aliceReads(id: string) {
  const before = gets(id);
  const startedAt = performance.now();
  const { body } = await h.query(DEVICE, { id }, as(tokens.alice));
  const ms = performance.now() - startedAt;
  return { answer: { data: body.data, errors: body.errors }, upstreamGets: gets(id) - before, ms };
}

describe('a refusal costs what a miss costs (device cache on)', () => {
  it("a cached device of bob's is refused to alice with the same answer and the same Flatpeak read as a missing id", async () => {
    await h.query(DEVICE, { id: 'dev_alice1' }, as(tokens.alice)); // alice's token verified before anything is timed
    // Bob reads his device: it is now in the shared cache.
    expect((await h.query(DEVICE, { id: 'dev_bob1' }, as(tokens.bob))).body.data).toEqual({
      device: { id: 'dev_bob1', referenceId: 'bob' },
    });
    const cachedForBob = gets('dev_bob1');
    expect((await h.query(DEVICE, { id: 'dev_bob1' }, as(tokens.bob))).body.data).toEqual({
      device: { id: 'dev_bob1', referenceId: 'bob' },
    });
    expect(gets('dev_bob1')).toBe(cachedForBob); // bob is served from the cache

    const refused = await aliceReads('dev_bob1');
    const missing = await aliceReads('dev_bob9');
    expect(refused.answer).toEqual({
      data: { device: null },
      errors: [expect.objectContaining({ message: 'No device dev_bob1', extensions: { code: 'NOT_FOUND' } })],
    });
    expect(missing.answer.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
    // The point: neither answer came from the cache. Each is one fresh read from Flatpeak.
    expect(missing.upstreamGets).toBe(1);
    expect(refused.upstreamGets).toBe(missing.upstreamGets);
    // Timings for information only (no assertion): medians of a few rounds each.
    const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!.toFixed(1);
    const rounds = { refused: [] as number[], missing: [] as number[] };
    for (let round = 0; round < 7; round += 1) {
      rounds.refused.push((await aliceReads('dev_bob1')).ms);
      rounds.missing.push((await aliceReads(`dev_bob9${round}`)).ms);
    }
    console.info(
      `refusal-cost: median of 7, alice refused bob's cached device in ${median(rounds.refused)} ms, a missing id in ` +
        `${median(rounds.missing)} ms (Flatpeak latency ${UPSTREAM_LATENCY_MS} ms; information only)`,
    );
  });

  it('the same holds for every path that loads a device: devices(ids:) and aliases', async () => {
    await h.query(DEVICE, { id: 'dev_bob2' }, as(tokens.bob)); // cached
    const before = { bob2: gets('dev_bob2'), missing: gets('dev_bob8') };
    const { body } = await h.query('{ devices(ids: ["dev_bob2", "dev_bob8"]) { id } }', undefined, as(tokens.alice));
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect({ bob2: gets('dev_bob2') - before.bob2, missing: gets('dev_bob8') - before.missing }).toEqual({ bob2: 1, missing: 1 });
  });

  it('a device that has become the caller’s since it was cached is served from that fresh read', async () => {
    await h.query(DEVICE, { id: 'dev_bob2' }, as(tokens.bob));
    h.standin.modify('dev_bob2', { reference_id: 'alice' });
    const read = await aliceReads('dev_bob2');
    expect(read.answer).toEqual({ data: { device: { id: 'dev_bob2', referenceId: 'alice' } }, errors: undefined });
    expect(read.upstreamGets).toBe(1);
    // The fresh answer replaced the cached one: bob is now refused, alice served from the cache.
    expect((await h.query(DEVICE, { id: 'dev_bob2' }, as(tokens.bob))).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await aliceReads('dev_bob2')).upstreamGets).toBe(0);
  });

  it('the caller’s own cached device is still served from the cache (the cache keeps its use)', async () => {
    await aliceReads('dev_alice1');
    const again = await aliceReads('dev_alice1');
    expect(again.answer.data).toEqual({ device: { id: 'dev_alice1', referenceId: 'alice' } });
    expect(again.upstreamGets).toBe(0);
  });

  it('sends no ftv1 trace (resolver timings) to a caller who asks, FTV1_TRACES being off by default', async () => {
    const { body } = await h.query(DEVICE, { id: 'dev_bob1' }, { ...as(tokens.alice), 'apollo-federation-include-trace': 'ftv1' });
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(body.extensions).toBeUndefined();
  });
});
