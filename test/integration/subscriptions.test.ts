import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeviceUpdatedDocument } from '../../examples/__generated__/graphql.ts';
import { createLogger } from '../../src/logger.ts';
import { type RawDevice, SEED_DEVICE_ID, sampleDevices, seedDevice } from '../../tools/standin/data.ts';
import { faultOn } from '../support/faults.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { readMultipart } from '../support/multipart.ts';
import { startDev } from '../support/process.ts';
import { type SseSubscription, subscribeSse } from '../support/sse.ts';

const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName lastSeen } }';
const INTERVAL_MS = 150;
const other = sampleDevices()[9]!;

/** Log lines of the facade, to wait for what it reports (a poller stopping) instead of sleeping. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', { write: (text: string) => void lines.push(JSON.parse(text) as Record<string, unknown>) });
  return {
    logger,
    lines,
    count: (msg: string, device?: string) =>
      lines.filter((line) => line.msg === msg && (device === undefined || line.device === device)).length,
  };
}

/** The value of one Prometheus sample from /metrics, e.g. `flatpeak_device_pollers`. */
async function metric(h: Harness, sample: string): Promise<number | undefined> {
  const text = await fetch(h.metricsUrl).then((response) => response.text());
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const gets = (h: Harness, id: string) =>
  h.standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;

describe('deviceUpdated over SSE (one shared poller per device)', () => {
  let h: Harness;
  const log = recordingLogger();
  beforeAll(async () => {
    h = await startHarness({
      env: { DEVICE_POLL_INTERVAL_MS: String(INTERVAL_MS), MAX_SUBSCRIPTIONS_PER_CALLER: '200' },
      logger: log.logger,
    });
  });
  afterAll(() => h.close());
  beforeEach(() => h.standin.setFault(undefined));

  it('sends the device at once, then each change (lastSeen included), and nothing while it does not change', async () => {
    const stream = await subscribeSse(h.url, WATCH, { id: other.id });
    expect(await stream.next()).toEqual({
      data: { deviceUpdated: { id: other.id, modelName: other.model_name, lastSeen: other.last_seen } },
    });
    const seen = '2025-01-02T03:04:05.000Z';
    h.standin.modify(other.id, { last_seen: seen });
    expect(await stream.next()).toEqual({ data: { deviceUpdated: { id: other.id, modelName: other.model_name, lastSeen: seen } } });
    h.standin.modify(other.id, { model_name: 'Renamed behind our back' });
    // Polls in between answered the same device: the next event is the next change, not a repeat.
    expect(await stream.next()).toEqual({
      data: { deviceUpdated: { id: other.id, modelName: 'Renamed behind our back', lastSeen: seen } },
    });
    expect(gets(h, other.id)).toBeGreaterThanOrEqual(3);
    // Yoga's keep-alive comments (every 12 s; every 300 ms under NODE_ENV=test) keep proxies from closing it.
    await vi.waitFor(() => expect(stream.pings).toBeGreaterThan(1), { timeout: 5_000 });
    stream.close();
    await vi.waitFor(() => expect(log.count('device poller stopped', other.id)).toBe(1));
  });

  it('100 subscribers share one poller: one GET per interval, an update reaches all of them within one interval, and polling stops with the last', async () => {
    h.standin.resetLog();
    const startedAt = performance.now();
    const streams: SseSubscription[] = await Promise.all(
      Array.from({ length: 100 }, () => subscribeSse(h.url, WATCH, { id: SEED_DEVICE_ID })),
    );
    const firsts = await Promise.all(streams.map((stream) => stream.next()));
    expect(firsts.every((event) => event?.data?.deviceUpdated?.modelName === seedDevice.model_name)).toBe(true);
    expect(log.lines.filter((line) => line.msg === 'device poller started' && line.device === SEED_DEVICE_ID)).toHaveLength(1);

    // Let the poller run for several intervals, counting Flatpeak's GETs as it goes.
    await vi.waitFor(() => expect(gets(h, SEED_DEVICE_ID)).toBeGreaterThanOrEqual(6), { timeout: 10_000, interval: 20 });
    const elapsed = performance.now() - startedAt;
    const count = gets(h, SEED_DEVICE_ID);
    // One poll, then one per interval after the previous one ends: never more, whatever the
    // machine's speed (100 separate pollers would have made 100 GETs for the first alone).
    expect(count).toBeLessThanOrEqual(Math.floor(elapsed / (INTERVAL_MS - 5)) + 1); // 5 ms for timer rounding
    expect(h.standin.maxInFlight).toBeLessThanOrEqual(1);

    // An update through the API reaches every subscriber, well within one interval.
    const before = performance.now();
    const update = await h.query(
      'mutation { updateDevice(id: "dev_63a6087272941ef077a8fd3e", input: { modelName: "Pico Ultimate X" }) { userErrors { code } } }',
    );
    expect(update.body.errors).toBeUndefined();
    const nexts = await Promise.all(streams.map((stream) => stream.next()));
    const reachedAllMs = performance.now() - before;
    expect(nexts.map((event) => event?.data?.deviceUpdated?.modelName)).toEqual(Array(100).fill('Pico Ultimate X'));
    expect(reachedAllMs).toBeLessThan(INTERVAL_MS * 10 + 1_000); // generous: the write itself pushes it, no poll needed

    // Every client leaves: the poller stops, and Flatpeak hears no more about the device.
    for (const stream of streams) stream.close();
    await vi.waitFor(() => expect(log.count('device poller stopped', SEED_DEVICE_ID)).toBe(1), { timeout: 5_000 });
    // Measured against polls of another device (event-driven, no sleeping): a poll that was
    // on the wire when the poller stopped may still land; after that, nothing.
    const witness = await subscribeSse(h.url, WATCH, { id: other.id });
    await witness.next();
    const twoPollsOf = async (id: string) => {
      const seen = gets(h, id);
      await vi.waitFor(() => expect(gets(h, id)).toBeGreaterThanOrEqual(seen + 2), { timeout: 5_000, interval: 10 });
    };
    await twoPollsOf(other.id);
    const afterStop = gets(h, SEED_DEVICE_ID);
    await twoPollsOf(other.id);
    expect(gets(h, SEED_DEVICE_ID)).toBe(afterStop);
    witness.close();
    await vi.waitFor(() => expect(log.count('device poller stopped', other.id)).toBe(2));
    h.standin.modify(SEED_DEVICE_ID, { model_name: seedDevice.model_name });
  });

  it('answers a bad id or an unknown device with an error, without opening a stream', async () => {
    const bad = await subscribeSse(h.url, WATCH, { id: 'not-an-id' });
    expect((await bad.next())?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await bad.next()).toBeUndefined();
    const missing = await subscribeSse(h.url, WATCH, { id: 'dev_doesnotexist' });
    expect((await missing.next())?.errors?.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(['NOT_FOUND']);
    await vi.waitFor(() => expect(log.count('device poller stopped', 'dev_doesnotexist')).toBe(1));
  });

  it('a graphql-sse client receives events', async () => {
    const client = createClient({ url: h.url.href, retryAttempts: 0 });
    const events = client.iterate<{ deviceUpdated: { modelName: string; lastSeen: string } }>({
      query: WATCH,
      variables: { id: other.id },
    });
    const first = await events.next();
    expect(first.value.data?.deviceUpdated.modelName).toBe('Renamed behind our back');
    h.standin.modify(other.id, { last_seen: '2025-06-01T00:00:00.000Z' });
    const second = await events.next();
    expect(second.value.data?.deviceUpdated.lastSeen).toBe('2025-06-01T00:00:00.000Z');
    await events.return?.(undefined);
    client.dispose();
    await vi.waitFor(() => expect(log.count('device poller stopped', other.id)).toBe(3));
  });

  it('Apollo Client receives events over multipart/mixed (subscriptionSpec=1.0)', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: h.url.href }), cache: new InMemoryCache() });
    const received: Array<{ modelName: string; lastSeen: string | null | undefined }> = [];
    const errors: unknown[] = [];
    const subscription = client.subscribe({ query: DeviceUpdatedDocument, variables: { id: other.id } }).subscribe({
      next: (result) => {
        if (result.data) received.push({ modelName: result.data.deviceUpdated.modelName, lastSeen: result.data.deviceUpdated.lastSeen });
        if (result.error) errors.push(result.error);
      },
      error: (error) => errors.push(error),
    });
    await vi.waitFor(() => expect(received).toHaveLength(1));
    h.standin.modify(other.id, { last_seen: '2025-07-01T00:00:00.000Z' });
    await vi.waitFor(() => expect(received).toHaveLength(2));
    expect(received[1]).toEqual({ modelName: 'Renamed behind our back', lastSeen: '2025-07-01T00:00:00.000Z' });
    expect(errors).toEqual([]);
    subscription.unsubscribe();
    await vi.waitFor(() => expect(log.count('device poller stopped', other.id)).toBe(4));
  });

  it("speaks Apollo's multipart protocol: heartbeat, payload parts, closing boundary", async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0", application/json' },
      body: JSON.stringify({ query: WATCH, variables: { id: 'dev_doesnotexist' } }),
    });
    // An error before the stream starts is a plain JSON answer, as the protocol allows.
    expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('NOT_FOUND');

    const live = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0", application/json' },
      body: JSON.stringify({ query: WATCH, variables: { id: other.id } }),
    });
    expect(live.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec=1.0');
    const parts = readMultipart(live);
    expect(await parts.next()).toEqual({}); // the first heartbeat, at once
    expect(await parts.next()).toMatchObject({ payload: { data: { deviceUpdated: { id: other.id } } } });
    await parts.cancel();
  });
});

describe('deviceUpdated when polls fail', () => {
  let h: Harness;
  const log = recordingLogger();
  beforeAll(async () => {
    h = await startHarness({
      env: { DEVICE_POLL_INTERVAL_MS: String(INTERVAL_MS), SUBSCRIPTION_MAX_ERRORS: '3', FLATPEAK_MAX_RETRIES: '0' },
      logger: log.logger,
    });
  });
  afterAll(() => h.close());

  it('sends nothing for a failed poll and carries on; after SUBSCRIPTION_MAX_ERRORS in a row, ends with the error', async () => {
    const stream = await subscribeSse(h.url, WATCH, { id: other.id });
    await stream.next();
    // Two failures (fewer than three in a row), then a change: the stream is still there for it.
    h.standin.resetLog();
    h.standin.setFault(faultOn(`/devices/${other.id}`, { status: 503 }, 2));
    await vi.waitFor(() => expect(h.standin.count(`/devices/${other.id}`)).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    h.standin.modify(other.id, { model_name: 'Back again' });
    expect((await stream.next())?.data?.deviceUpdated?.modelName).toBe('Back again');
    expect(log.count('device poll failed', other.id)).toBe(2);

    h.standin.setFault(faultOn(`/devices/${other.id}`, { status: 503 }));
    const last = await stream.next();
    expect(last).toMatchObject({ data: null, errors: [{ extensions: { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 503 } } }] });
    expect(last?.errors?.[0]?.message).toMatch(/3 times in a row/);
    expect(await stream.next()).toBeUndefined();
    expect(stream.completed).toBe(true);
    await vi.waitFor(() => expect(log.count('device poller stopped', other.id)).toBe(1));
    h.standin.setFault(undefined);
  });
});

describe('deviceUpdated: callers, limits, shutdown (CALLER_AUTH=jwt)', () => {
  const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });
  let idp: IdentityProvider;
  let h: Harness;
  const shutdown = new AbortController();
  const tokens = { a: '', b: '', c: '' };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: {
        devices: [
          ...sampleDevices(),
          device('dev_a1', 'user-a'),
          device('dev_a2', 'user-a'),
          device('dev_a3', 'user-a'),
          device('dev_b1', 'user-b'),
        ],
      },
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        DEVICE_POLL_INTERVAL_MS: String(INTERVAL_MS),
        MAX_SUBSCRIPTIONS_PER_CALLER: '2',
        MAX_SUBSCRIPTIONS: '3',
      },
      shutdownSignal: shutdown.signal,
    });
    tokens.a = await idp.token({ claims: { sub: 'user-a' } });
    tokens.b = await idp.token({ claims: { sub: 'user-b' } });
    tokens.c = await idp.token({ claims: { sub: 'user-c' } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('refuses a caller without a token', async () => {
    const anonymous = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: WATCH, variables: { id: 'dev_a1' } }),
    });
    expect(await anonymous.text()).toContain('UNAUTHENTICATED');
  });

  it("answers another user's device, a missing one and another user's malformed one exactly as a read does: the same NOT_FOUND, no upstream details", async () => {
    // dev_a2 is user-a's, in a shape Flatpeak's docs do not allow.
    h.standin.setFault(
      faultOn('/devices/dev_a2', {
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ id: 'dev_a2', reference_id: 'user-a' }),
      }),
    );
    try {
      const refusal = (errors: Array<{ message: string; extensions?: Record<string, unknown> }> | undefined) =>
        errors?.map(({ message, extensions }) => ({ message, extensions }));
      const answers = async (id: string, token: string) => {
        const read = await h.query('query ($id: ID!) { device(id: $id) { id } }', { id }, as(token));
        const stream = await subscribeSse(h.url, WATCH, { id }, as(token));
        const subscribed = await stream.next();
        expect(await stream.next()).toBeUndefined();
        return { read: refusal(read.body.errors), subscribed: refusal(subscribed?.errors) };
      };
      for (const id of ['dev_a1', 'dev_missing', 'dev_a2']) {
        const { read, subscribed } = await answers(id, tokens.b);
        expect(subscribed).toEqual([{ message: `No device ${id}`, extensions: { code: 'NOT_FOUND' } }]);
        expect(subscribed).toEqual(read);
      }
      // Its owner may read it, so its owner is told what is wrong with it, on both paths.
      const owner = await answers('dev_a2', tokens.a);
      expect(owner.subscribed?.[0]?.extensions?.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(owner.subscribed).toEqual(owner.read);
    } finally {
      h.standin.setFault(undefined);
    }
  });

  it('keeps no poller for a refused subscription: Flatpeak hears no more of the device', async () => {
    for (const id of ['dev_a1', 'dev_missing']) {
      const refused = await subscribeSse(h.url, WATCH, { id }, as(tokens.b));
      expect((await refused.next())?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
    const afterRefusal = { a1: gets(h, 'dev_a1'), missing: gets(h, 'dev_missing') };
    // Polls of a watched device are the clock (event-driven, no sleeping): three intervals
    // pass before its third poll after the first, in which a leftover poller would poll too.
    const witness = await subscribeSse(h.url, WATCH, { id: 'dev_b1' }, as(tokens.b));
    await witness.next();
    const seen = gets(h, 'dev_b1');
    await vi.waitFor(() => expect(gets(h, 'dev_b1')).toBeGreaterThanOrEqual(seen + 3), { timeout: 5_000, interval: 10 });
    expect({ a1: gets(h, 'dev_a1'), missing: gets(h, 'dev_missing') }).toEqual(afterRefusal);
    witness.close();
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
  });

  it('checks every event: a device that stops being the caller’s ends the stream with NOT_FOUND', async () => {
    const stream = await subscribeSse(h.url, WATCH, { id: 'dev_a3' }, as(tokens.a));
    expect((await stream.next())?.data?.deviceUpdated?.id).toBe('dev_a3');
    h.standin.modify('dev_a3', { reference_id: 'user-b' });
    expect((await stream.next())?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await stream.next()).toBeUndefined();
  });

  it('limits subscriptions per caller and in all, with a clear error', async () => {
    const a1 = await subscribeSse(h.url, WATCH, { id: 'dev_a1' }, as(tokens.a));
    const a2 = await subscribeSse(h.url, WATCH, { id: 'dev_a2' }, as(tokens.a));
    await a1.next();
    await a2.next();
    const third = await subscribeSse(h.url, WATCH, { id: 'dev_a1' }, as(tokens.a));
    const refused = await third.next();
    expect(refused?.errors?.[0]).toMatchObject({
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      message: expect.stringMatching(/2 subscriptions open/),
    });

    const b1 = await subscribeSse(h.url, WATCH, { id: 'dev_b1' }, as(tokens.b));
    await b1.next(); // three open: the instance's limit
    const c = await subscribeSse(h.url, WATCH, { id: 'dev_b1' }, as(tokens.c));
    expect((await c.next())?.errors?.[0]).toMatchObject({
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      message: expect.stringMatching(/3 subscriptions/),
    });

    // A closed stream gives its place back.
    a2.close();
    await vi.waitFor(async () => {
      const again = await subscribeSse(h.url, WATCH, { id: 'dev_a2' }, as(tokens.a));
      const first = await again.next();
      expect(first?.data?.deviceUpdated?.id).toBe('dev_a2');
    });
    a1.close();
    b1.close();
  });

  it('ends open streams cleanly on shutdown (SHUTTING_DOWN, then complete) and refuses new ones', async () => {
    await vi.waitFor(async () => {
      const probe = await subscribeSse(h.url, WATCH, { id: 'dev_b1' }, as(tokens.b));
      expect((await probe.next())?.data).toBeDefined();
      probe.close();
    });
    const stream = await subscribeSse(h.url, WATCH, { id: 'dev_b1' }, as(tokens.b));
    await vi.waitFor(async () => expect((await stream.next())?.data?.deviceUpdated?.id).toBe('dev_b1'));
    shutdown.abort();
    expect((await stream.next())?.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    expect(await stream.next()).toBeUndefined();
    expect(stream.completed).toBe(true);
    const late = await subscribeSse(h.url, WATCH, { id: 'dev_b1' }, as(tokens.b));
    expect((await late.next())?.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
  });
});

it('SIGTERM: the service ends open subscription streams cleanly and exits within the grace period', async () => {
  const main = startDev({ PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '20000' });
  let stream: SseSubscription | undefined;
  try {
    const url = String((await main.waitForLog((line) => typeof line.url === 'string')).url);
    stream = await subscribeSse(url, WATCH, { id: SEED_DEVICE_ID });
    expect((await stream.next())?.data?.deviceUpdated?.id).toBe(SEED_DEVICE_ID);
    const signalledAt = performance.now();
    main.child.kill('SIGTERM');
    expect((await stream.next())?.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    expect(await stream.next()).toBeUndefined();
    expect(stream.completed).toBe(true);
    const { code } = await main.exit();
    expect(code).toBe(0);
    // The stream ended by itself: the 20 s grace period was not needed to cut it off.
    expect(performance.now() - signalledAt).toBeLessThan(15_000);
    expect(main.output()).not.toContain('grace period over');
  } finally {
    stream?.close();
    if (main.child.exitCode === null) main.child.kill('SIGKILL');
  }
});
