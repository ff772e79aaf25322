import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RawDevice, SEED_DEVICE_ID, seedDevice } from '../../tools/standin/data.ts';
import { type CallbackReceiver, startCallbackReceiver } from '../support/callback-receiver.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { subscribeSse } from '../support/sse.ts';

const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName } }';
const INTERVAL_MS = 150;
const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });

type Event = { data?: { deviceUpdated?: { id: string; modelName: string } } | null; errors?: Array<{ extensions?: { code?: string } }> };

async function metric(h: Harness, sample: string): Promise<number | undefined> {
  const text = await fetch(h.metricsUrl).then((response) => response.text());
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const gets = (h: Harness, id: string) =>
  h.standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;

describe("deviceUpdated over Apollo's HTTP callback protocol (a router's side written from the published protocol)", () => {
  let idp: IdentityProvider;
  let receiver: CallbackReceiver;
  let h: Harness;
  const shutdown = new AbortController();
  const tokens = { alice: '', bob: '' };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    idp = await startIdentityProvider();
    receiver = await startCallbackReceiver();
    h = await startHarness({
      standin: { devices: [device('dev_a1', 'alice'), device('dev_a2', 'alice'), device('dev_b1', 'bob')] },
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        DEVICE_POLL_INTERVAL_MS: String(INTERVAL_MS),
        MAX_SUBSCRIPTIONS_PER_CALLER: '2',
        SUBSCRIPTION_CALLBACK_URLS: receiver.url.href,
      },
      shutdownSignal: shutdown.signal,
    });
    tokens.alice = await idp.token({ claims: { sub: 'alice' } });
    tokens.bob = await idp.token({ claims: { sub: 'bob' } });
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
    await idp.close();
  });

  it('checks before answering, answers {"data":null}, then sends next for each change and check every heartbeatIntervalMs', async () => {
    const sub = await receiver.subscribe(h.url, WATCH, { id: 'dev_a1' }, { headers: bearer(tokens.alice), heartbeatIntervalMs: 200 });
    expect(sub.response).toEqual({ status: 200, body: { data: null } });
    // The check came before the answer: it is the first message, there when the answer arrived.
    expect(sub.messages[0]).toMatchObject({ kind: 'subscription', action: 'check', id: sub.id });
    expect((await sub.waitFor('next')).payload).toEqual({ data: { deviceUpdated: { id: 'dev_a1', modelName: seedDevice.model_name } } });
    h.standin.modify('dev_a1', { model_name: 'Changed upstream' });
    expect((await sub.waitFor('next', 2)).payload?.data).toEqual({ deviceUpdated: { id: 'dev_a1', modelName: 'Changed upstream' } });
    // Heartbeats: further checks while it lives.
    await sub.waitFor('check', 3);
    expect(await metric(h, 'flatpeak_callback_subscriptions_open')).toBe(1);
    expect(receiver.rejected).toEqual([]);

    // The router ends it (404 from now on): the subscription, its slot and its poller go.
    sub.terminate();
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_callback_subscriptions_open')).toBe(0), { timeout: 5_000 });
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
    expect(sub.messages.some((message) => message.action === 'complete')).toBe(false);
  });

  it("refuses bob alice's device as a read does: NOT_FOUND in the answer, and nothing sent to the callback", async () => {
    const before = receiver.requests;
    const sub = await receiver.subscribe(h.url, WATCH, { id: 'dev_a1' }, { headers: bearer(tokens.bob) });
    const read = await h.query('query ($id: ID!) { device(id: $id) { id } }', { id: 'dev_a1' }, bearer(tokens.bob));
    expect(sub.response.body.errors?.map(({ message, extensions }) => ({ message, extensions }))).toEqual(
      read.body.errors?.map(({ message, extensions }) => ({ message, extensions })),
    );
    expect(sub.response.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(receiver.requests).toBe(before);
  });

  it('refuses a callback URL outside SUBSCRIPTION_CALLBACK_URLS without calling it (no SSRF)', async () => {
    const before = receiver.requests;
    for (const callbackUrl of [
      'http://169.254.169.254/latest/meta-data/',
      `${receiver.url.origin}/admin`,
      `${receiver.url.href}../admin`,
      `${receiver.url.href}%2e%2e/admin`,
      `http://user:pass@${receiver.url.host}/callback/x`,
      'file:///etc/passwd',
    ]) {
      const sub = await receiver.subscribe(h.url, WATCH, { id: 'dev_a1' }, { headers: bearer(tokens.alice), callbackUrl });
      expect(sub.response.status, callbackUrl).toBe(400);
      expect(sub.response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(receiver.requests).toBe(before);
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
  });

  it('does not start a subscription whose check the router refuses: 400, no poller left', async () => {
    const sub = await receiver.subscribe(h.url, WATCH, { id: 'dev_a2' }, { headers: bearer(tokens.alice), refuseCheck: true });
    expect(sub.response.status).toBe(400);
    expect(sub.response.body.errors?.[0]?.message).toMatch(/answered the check with HTTP 400/);
    expect(sub.messages).toEqual([]);
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
    expect(await metric(h, 'flatpeak_callback_subscriptions_open')).toBe(0);
  });

  it('shares the poller and the per-caller limit with SSE; a device that stops being the caller’s ends with complete + NOT_FOUND', async () => {
    h.standin.resetLog();
    const startedAt = performance.now();
    const sub = await receiver.subscribe(h.url, WATCH, { id: 'dev_a2' }, { headers: bearer(tokens.alice), heartbeatIntervalMs: 0 });
    expect(sub.response.status).toBe(200);
    const sse = await subscribeSse(h.url, WATCH, { id: 'dev_a2' }, bearer(tokens.alice));
    expect(((await sse.next()) as Event | undefined)?.data?.deviceUpdated?.id).toBe('dev_a2');
    expect(await metric(h, 'flatpeak_device_pollers')).toBe(1);
    // Two open for alice: a third, over either transport, is refused.
    const third = await receiver.subscribe(h.url, WATCH, { id: 'dev_a1' }, { headers: bearer(tokens.alice) });
    expect(third.response.body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    await vi.waitFor(() => expect(gets(h, 'dev_a2')).toBeGreaterThanOrEqual(4), { timeout: 10_000, interval: 20 });
    expect(gets(h, 'dev_a2')).toBeLessThanOrEqual(Math.floor((performance.now() - startedAt) / (INTERVAL_MS - 5)) + 1);

    h.standin.modify('dev_a2', { reference_id: 'bob' });
    const complete = await sub.waitFor('complete');
    expect(complete.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(sub.messages.filter((message) => message.action === 'check')).toHaveLength(1); // heartbeats off: the first only
    sse.close();
    h.standin.modify('dev_a2', { reference_id: 'alice' });
  });

  it('on shutdown: complete with SHUTTING_DOWN', async () => {
    const sub = await receiver.subscribe(h.url, WATCH, { id: 'dev_b1' }, { headers: bearer(tokens.bob) });
    await sub.waitFor('next');
    shutdown.abort();
    await h.closeSubscriptions(20_000);
    const complete = await sub.waitFor('complete');
    expect(complete.errors?.map((error) => error.extensions?.code)).toEqual(['SHUTTING_DOWN']);
  });
});

it('refuses callback subscriptions unless SUBSCRIPTION_CALLBACK_URLS is set, calling nothing', async () => {
  const receiver = await startCallbackReceiver();
  const h = await startHarness();
  try {
    const sub = await receiver.subscribe(h.url, WATCH, { id: SEED_DEVICE_ID });
    expect(sub.response.status).toBe(400);
    expect(sub.response.body.errors?.[0]?.message).toMatch(/SUBSCRIPTION_CALLBACK_URLS/);
    expect(receiver.requests).toBe(0);
  } finally {
    await h.close();
    await receiver.close();
  }
});
