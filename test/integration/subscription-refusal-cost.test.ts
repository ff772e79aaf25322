// Issue 21, finding 4: `deviceUpdated` for a device someone else already watches was refused
// from the shared poller's last version (4–8 ms), a missing id only after a Flatpeak call
// (~50 ms), so the refusal's speed told that the device exists. A refusal must make the same
// upstream read a missing id makes, which the stand-in counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawDevice, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { subscribeSse } from '../support/sse.ts';

const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });
const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id referenceId } }';
const UPSTREAM_LATENCY_MS = 40;

let idp: IdentityProvider;
let h: Harness;
const tokens = { alice: '', bob: '' };
const as = (token: string) => ({ authorization: `Bearer ${token}` });
/** The `extensions.code` of an event's first error. */
const codeOf = (event: Record<string, unknown> | undefined) =>
  (event?.errors as Array<{ extensions?: { code?: string } }> | undefined)?.[0]?.extensions?.code;
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
      // One poll when a poller starts, then none during the test: every GET counted is a subscriber's.
      DEVICE_POLL_INTERVAL_MS: '600000',
      MAX_SUBSCRIPTIONS_PER_CALLER: '100',
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

/** Alice subscribes to `id`: her first event, the GETs of it Flatpeak saw, and how long the answer took. */
async function aliceWatches(id: string) {
  const before = gets(id);
  const startedAt = performance.now();
  const stream = await subscribeSse(h.url, WATCH, { id }, as(tokens.alice));
  const first = await stream.next();
  const ms = performance.now() - startedAt;
  stream.close();
  return { first, upstreamGets: gets(id) - before, ms };
}

describe('deviceUpdated: a refusal costs what a miss costs', () => {
  it('a device bob watches is refused to alice with the same event and the same Flatpeak read as a missing id', async () => {
    await aliceWatches('dev_alice1'); // alice's token verified before anything is counted or timed
    const bob = await subscribeSse(h.url, WATCH, { id: 'dev_bob1' }, as(tokens.bob));
    expect(await bob.next()).toEqual({ data: { deviceUpdated: { id: 'dev_bob1', referenceId: 'bob' } } });

    const refused = await aliceWatches('dev_bob1');
    const missing = await aliceWatches('dev_bob9');
    expect(refused.first).toEqual({
      errors: [expect.objectContaining({ message: 'No device dev_bob1', extensions: { code: 'NOT_FOUND' } })],
    });
    expect(codeOf(missing.first)).toBe('NOT_FOUND');
    // Neither answer came from the shared poller: each is one fresh read from Flatpeak.
    expect(missing.upstreamGets).toBe(1);
    expect(refused.upstreamGets).toBe(missing.upstreamGets);

    // Timings for information only (no assertion): medians of a few rounds each.
    const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!.toFixed(1);
    const rounds = { refused: [] as number[], missing: [] as number[] };
    for (let round = 0; round < 7; round += 1) {
      rounds.refused.push((await aliceWatches('dev_bob1')).ms);
      rounds.missing.push((await aliceWatches(`dev_bob9${round}`)).ms);
    }
    console.info(
      `subscription-refusal-cost: median of 7, alice refused a device bob watches in ${median(rounds.refused)} ms, a missing id in ` +
        `${median(rounds.missing)} ms (Flatpeak latency ${UPSTREAM_LATENCY_MS} ms; information only)`,
    );
    // Bob's stream was not disturbed by any of it.
    bob.close();
  });

  it('a watched device that has become the caller’s since the last poll is sent to the caller from that fresh read, and to its other watchers', async () => {
    const bob = await subscribeSse(h.url, WATCH, { id: 'dev_bob2' }, as(tokens.bob));
    expect(await bob.next()).toEqual({ data: { deviceUpdated: { id: 'dev_bob2', referenceId: 'bob' } } });
    h.standin.modify('dev_bob2', { reference_id: 'alice' });
    const before = gets('dev_bob2');
    const alice = await subscribeSse(h.url, WATCH, { id: 'dev_bob2' }, as(tokens.alice));
    expect(await alice.next()).toEqual({ data: { deviceUpdated: { id: 'dev_bob2', referenceId: 'alice' } } });
    expect(gets('dev_bob2') - before).toBe(1);
    // The poller learnt the new version with that read: bob, who may no longer read it, is told so.
    expect(codeOf(await bob.next())).toBe('NOT_FOUND');
    expect(await bob.next()).toBeUndefined();
    alice.close();
  });
});
