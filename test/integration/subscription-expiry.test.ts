// Issue 21, finding 5: a subscription kept streaming after its token expired, and must end
// when the token stops being accepted (exp plus AUTH_CLOCK_TOLERANCE_S) with UNAUTHENTICATED,
// on every transport, by itself (a timer, not the next change of the device); and when the
// device stops being the caller's, with the refusal's code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawDevice, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { readMultipart } from '../support/multipart.ts';
import { subscribeSse } from '../support/sse.ts';

const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });
const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id referenceId } }';
const LEEWAY_S = 1;
/** Seconds the short-lived tokens live: what the tests wait for, and no more. */
const LIFETIME_S = 2;

let idp: IdentityProvider;
let h: Harness;
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const gets = (id: string) => h.standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;
/** The `exp` a token carries, in seconds. */
const expOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
const codesOf = (event: Record<string, unknown> | undefined) =>
  (event?.errors as Array<{ extensions?: { code?: string } }> | undefined)?.map((error) => error.extensions?.code);

beforeAll(async () => {
  idp = await startIdentityProvider();
  h = await startHarness({
    standin: { devices: [...sampleDevices(), device('dev_alice1', 'alice'), device('dev_alice2', 'alice'), device('dev_bob1', 'bob')] },
    env: {
      CALLER_AUTH: 'jwt',
      AUTH_JWKS_URL: idp.jwksUrl.href,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_CLOCK_TOLERANCE_S: String(LEEWAY_S),
      // No poll during a test: nothing but the expiry timer can end a stream.
      DEVICE_POLL_INTERVAL_MS: '600000',
      // One open stream per caller: a stream that did not end would keep its owner's place.
      MAX_SUBSCRIPTIONS_PER_CALLER: '1',
    },
  });
});
afterAll(async () => {
  await h.close();
  await idp.close();
});

describe('a subscription ends when its token does', () => {
  it('SSE: at exp plus the leeway, with UNAUTHENTICATED and then complete, though the device never changed', async () => {
    const token = await idp.token({ claims: { sub: 'alice' }, expiresIn: LIFETIME_S });
    const stream = await subscribeSse(h.url, WATCH, { id: 'dev_alice1' }, as(token));
    expect(await stream.next()).toEqual({ data: { deviceUpdated: { id: 'dev_alice1', referenceId: 'alice' } } });
    const polls = gets('dev_alice1');

    const last = await stream.next(); // waits for the timer, no sleeping
    const endedAt = Date.now();
    expect(last).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          message: 'Your token has expired, so this subscription ended; subscribe again with a new token',
          extensions: { code: 'UNAUTHENTICATED' },
        }),
      ],
    });
    expect(await stream.next()).toBeUndefined();
    expect(stream.completed).toBe(true);
    // Not a moment before the token stopped being accepted, and not because of a poll.
    expect(endedAt).toBeGreaterThanOrEqual((expOf(token) + LEEWAY_S) * 1000);
    expect(gets('dev_alice1')).toBe(polls);
    console.info(`subscription-expiry: SSE stream ended ${endedAt - (expOf(token) + LEEWAY_S) * 1000} ms after exp + leeway (information)`);

    // Its place was given back: alice subscribes again with a new token (one stream per caller).
    const renewed = await subscribeSse(h.url, WATCH, { id: 'dev_alice1' }, as(await idp.token({ claims: { sub: 'alice' } })));
    expect((await renewed.next())?.data).toEqual({ deviceUpdated: { id: 'dev_alice1', referenceId: 'alice' } });
    renewed.close();
  });

  it('multipart (Apollo Client’s transport): the same end, by the same timer', async () => {
    const token = await idp.token({ claims: { sub: 'bob' }, expiresIn: LIFETIME_S });
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0", application/json', ...as(token) },
      body: JSON.stringify({ query: WATCH, variables: { id: 'dev_bob1' } }),
    });
    const parts = readMultipart(response);
    const payloads: Array<Record<string, unknown> | undefined> = [];
    for (let part = await parts.next(); part !== undefined; part = await parts.next()) {
      if ('payload' in part) payloads.push(part.payload as Record<string, unknown>);
    }
    const endedAt = Date.now();
    expect(payloads[0]).toEqual({ data: { deviceUpdated: { id: 'dev_bob1', referenceId: 'bob' } } });
    expect(payloads.slice(1).map(codesOf)).toEqual([['UNAUTHENTICATED']]);
    expect(endedAt).toBeGreaterThanOrEqual((expOf(token) + LEEWAY_S) * 1000);
  });

  it('a device that moves to another owner ends the stream with the refusal’s code (NOT_FOUND)', async () => {
    const token = await idp.token({ claims: { sub: 'alice' } });
    const stream = await subscribeSse(h.url, WATCH, { id: 'dev_alice2' }, as(token));
    expect((await stream.next())?.data).toEqual({ deviceUpdated: { id: 'dev_alice2', referenceId: 'alice' } });
    // Bob's write (as the back office would make it) reaches the pollers at once: no poll needed.
    h.standin.modify('dev_alice2', { reference_id: 'bob' });
    const admin = await idp.token({ claims: { sub: 'backoffice', scope: 'devices:read:all devices:write' } });
    const write = await h.query(
      'mutation { updateDevice(id: "dev_alice2", input: { modelName: "Moved" }) { device { id } } }',
      undefined,
      as(admin),
    );
    expect(write.body.errors).toBeUndefined();
    expect(codesOf(await stream.next())).toEqual(['NOT_FOUND']);
    expect(await stream.next()).toBeUndefined();
  });
});
