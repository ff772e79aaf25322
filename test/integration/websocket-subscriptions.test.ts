import { once } from 'node:events';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { type RawDevice, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider, unsignedToken } from '../support/identity-provider.ts';
import { subscribeSse } from '../support/sse.ts';
import { connectRaw, openRawSocket } from '../support/websocket.ts';

const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id modelName lastSeen } }';
const INTERVAL_MS = 150;
const device = (id: string, referenceId: string): RawDevice => ({ ...seedDevice, id, reference_id: referenceId, locations: [] });

type Event = {
  data?: { deviceUpdated?: { id: string; modelName: string; lastSeen: string } } | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
};

/** A graphql-ws client (the library Apollo's docs point apps to), as an app would make it. */
function wsClient(url: URL | string, connectionParams?: Record<string, unknown>): Client {
  return createClient({
    url: String(url).replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
}

/** Subscribes through `client`; `next()` gives each result in turn, undefined once complete. */
function watch(client: Client, id: string) {
  const events = client.iterate<Event['data']>({ query: WATCH, variables: { id } });
  return {
    next: async (): Promise<Event | undefined> => {
      const step = await events.next();
      return step.done ? undefined : (step.value as Event);
    },
    close: () => events.return?.(undefined),
  };
}

async function metric(h: Harness, sample: string): Promise<number | undefined> {
  const text = await fetch(h.metricsUrl).then((response) => response.text());
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

const gets = (h: Harness, id: string) =>
  h.standin.requests.filter((request) => request.method === 'GET' && request.path === `/devices/${id}`).length;

describe('deviceUpdated over WebSocket (graphql-transport-ws), CALLER_AUTH=jwt', () => {
  let idp: IdentityProvider;
  let h: Harness;
  const shutdown = new AbortController();
  const tokens = { alice: '', bob: '', carol: '' };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: { devices: [device('dev_a1', 'alice'), device('dev_a2', 'alice'), device('dev_b1', 'bob'), device('dev_c1', 'carol')] },
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        DEVICE_POLL_INTERVAL_MS: String(INTERVAL_MS),
        MAX_SUBSCRIPTIONS_PER_CALLER: '2',
        // Short, but not so short that a busy test process (client and server in one) misses a pong.
        WEBSOCKET_KEEPALIVE_MS: '500',
      },
      shutdownSignal: shutdown.signal,
    });
    tokens.alice = await idp.token({ claims: { sub: 'alice' } });
    tokens.bob = await idp.token({ claims: { sub: 'bob' } });
    tokens.carol = await idp.token({ claims: { sub: 'carol' } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('a graphql-ws client with its token in connection_init gets the device, then each change', async () => {
    const client = wsClient(h.url, bearer(tokens.alice));
    const stream = watch(client, 'dev_a1');
    expect(await stream.next()).toMatchObject({ data: { deviceUpdated: { id: 'dev_a1', modelName: seedDevice.model_name } } });
    h.standin.modify('dev_a1', { model_name: 'Changed upstream' });
    expect((await stream.next())?.data?.deviceUpdated?.modelName).toBe('Changed upstream');
    await stream.close();
    await client.dispose();
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
  });

  it("takes the token from the upgrade request's Authorization header too (a router forwarding it)", async () => {
    const raw = await connectRaw(h.url, undefined, bearer(tokens.bob));
    raw.send({ id: '1', type: 'subscribe', payload: { query: WATCH, variables: { id: 'dev_b1' } } });
    expect(await raw.next()).toMatchObject({ id: '1', type: 'next', payload: { data: { deviceUpdated: { id: 'dev_b1' } } } });
    raw.send({ id: '1', type: 'complete' });
    raw.socket.close(1000);
    expect((await raw.closed).code).toBe(1000);
  });

  it("refuses bob alice's device exactly as over HTTP: NOT_FOUND, the same message", async () => {
    const client = wsClient(h.url, bearer(tokens.bob));
    const overWs = await watch(client, 'dev_a1').next();
    const overSse = (await (await subscribeSse(h.url, WATCH, { id: 'dev_a1' }, bearer(tokens.bob))).next()) as Event | undefined;
    expect(overWs?.errors?.map(({ message, extensions }) => ({ message, extensions }))).toEqual([
      { message: 'No device dev_a1', extensions: { code: 'NOT_FOUND' } },
    ]);
    expect(overWs?.errors?.[0]?.message).toBe(overSse?.errors?.[0]?.message);
    await client.dispose();
  });

  it('refuses a bad token at connection_init: close code 4403 with the reason, before any subscription', async () => {
    for (const token of [
      unsignedToken({ sub: 'alice', iss: ISSUER, aud: AUDIENCE }),
      await idp.token({ claims: { sub: 'alice' }, expiresIn: -60 }),
    ]) {
      const raw = await openRawSocket(h.url);
      raw.send({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } });
      expect(await raw.next()).toBeUndefined(); // no connection_ack
      const { code, reason } = await raw.closed;
      expect(code).toBe(4403);
      expect(reason).toMatch(/^Forbidden: .*token/i);
      expect(reason).not.toContain(token.slice(0, 20));
    }
    // The same bad token in the upgrade's header is refused alike.
    const raw = await openRawSocket(h.url, { headers: { authorization: 'Bearer not.a.jwt' } });
    raw.send({ type: 'connection_init' });
    expect((await raw.closed).code).toBe(4403);
  });

  it('refuses a connection without a token at connection_init (4403), and a query over the socket', async () => {
    const anonymous = await openRawSocket(h.url);
    anonymous.send({ type: 'connection_init' });
    expect(await anonymous.next()).toBeUndefined();
    const { code, reason } = await anonymous.closed;
    expect(code).toBe(4403);
    expect(reason).toMatch(/^Forbidden: Sign in/);

    const raw = await connectRaw(h.url, bearer(tokens.alice));
    raw.send({ id: 'b', type: 'subscribe', payload: { query: '{ __typename }' } });
    expect(await raw.next()).toMatchObject({ id: 'b', type: 'error', payload: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    raw.socket.close(1000);
  });

  it('counts a caller’s subscriptions over SSE and WebSocket together (MAX_SUBSCRIPTIONS_PER_CALLER=2)', async () => {
    const sse = await subscribeSse(h.url, WATCH, { id: 'dev_a1' }, bearer(tokens.alice));
    expect(((await sse.next()) as Event | undefined)?.data?.deviceUpdated?.id).toBe('dev_a1');
    const client = wsClient(h.url, bearer(tokens.alice));
    const second = watch(client, 'dev_a2');
    expect((await second.next())?.data?.deviceUpdated?.id).toBe('dev_a2');
    const third = await watch(client, 'dev_a1').next();
    expect(third?.errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(third?.errors?.[0]?.message).toMatch(/2 subscriptions open/);
    // Closing the SSE stream gives its place to the socket.
    sse.close();
    await vi.waitFor(async () => expect((await watch(client, 'dev_a1').next())?.data?.deviceUpdated?.id).toBe('dev_a1'));
    await client.dispose();
  });

  it('an SSE and a WebSocket subscriber of a device share one poller: one GET per interval', async () => {
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_websockets_open')).toBe(0));
    h.standin.resetLog();
    const startedAt = performance.now();
    const client = wsClient(h.url, bearer(tokens.carol));
    const overWs = watch(client, 'dev_c1');
    const overSse = await subscribeSse(h.url, WATCH, { id: 'dev_c1' }, bearer(tokens.carol));
    expect((await overWs.next())?.data?.deviceUpdated?.id).toBe('dev_c1');
    expect(((await overSse.next()) as Event | undefined)?.data?.deviceUpdated?.id).toBe('dev_c1');
    expect(await metric(h, 'flatpeak_device_pollers')).toBe(1);
    expect(await metric(h, 'flatpeak_websockets_open')).toBe(1);
    await vi.waitFor(() => expect(gets(h, 'dev_c1')).toBeGreaterThanOrEqual(5), { timeout: 10_000, interval: 20 });
    const elapsed = performance.now() - startedAt;
    // One poll, then one per interval after the previous ends: two pollers would make twice as many.
    expect(gets(h, 'dev_c1')).toBeLessThanOrEqual(Math.floor(elapsed / (INTERVAL_MS - 5)) + 1);
    // A change reaches both.
    h.standin.modify('dev_c1', { model_name: 'Seen by both' });
    expect((await overWs.next())?.data?.deviceUpdated?.modelName).toBe('Seen by both');
    expect(((await overSse.next()) as Event | undefined)?.data?.deviceUpdated?.modelName).toBe('Seen by both');
    overSse.close();
    await overWs.close();
    await client.dispose();
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_device_pollers')).toBe(0));
  });

  it('pings every socket (WEBSOCKET_KEEPALIVE_MS) and closes one that does not answer', async () => {
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_websockets_open')).toBe(0));
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_subscriptions_open')).toBe(0));
    const alive = await connectRaw(h.url, bearer(tokens.alice));
    await vi.waitFor(() => expect(alive.pings).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    expect(alive.socket.readyState).toBe(WebSocket.OPEN);
    alive.socket.close(1000);

    const silent = await openRawSocket(h.url, { autoPong: false });
    silent.send({ type: 'connection_init', payload: bearer(tokens.alice) });
    expect((await silent.next())?.type).toBe('connection_ack');
    silent.send({ id: 's', type: 'subscribe', payload: { query: WATCH, variables: { id: 'dev_a2' } } });
    expect((await silent.next())?.type).toBe('next');
    expect(await metric(h, 'flatpeak_subscriptions_open')).toBe(1);
    // Cut off by the server (no close frame: 1006) once a ping went unanswered; its subscription with it.
    expect((await silent.closed).code).toBe(1006);
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_websockets_open')).toBe(0));
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_subscriptions_open')).toBe(0));
  });

  it('closes a socket that sends a message over 128 KB (1009) or a binary one (4400)', async () => {
    const big = await connectRaw(h.url, bearer(tokens.alice));
    big.send({ id: 'big', type: 'subscribe', payload: { query: `subscription { __typename } # ${'x'.repeat(130 * 1024)}` } });
    expect((await big.closed).code).toBe(1009);
    const binary = await connectRaw(h.url, bearer(tokens.alice));
    binary.socket.send(Buffer.from('{"type":"ping"}'), { binary: true });
    expect((await binary.closed).code).toBe(4400);
  });

  it('refuses, with HTTP 400 saying what to ask for, an upgrade without the graphql-transport-ws subprotocol', async () => {
    for (const protocols of [[], ['graphql-ws']]) {
      const socket = new WebSocket(h.url.href.replace(/^http/, 'ws'), protocols);
      socket.on('error', () => {});
      const [, response] = (await once(socket, 'unexpected-response')) as [unknown, NodeJS.ReadableStream & { statusCode: number }];
      expect(response.statusCode).toBe(400);
      let body = '';
      for await (const chunk of response) body += String(chunk);
      expect(JSON.parse(body)).toEqual({
        errors: [{ message: expect.stringContaining('Sec-WebSocket-Protocol'), extensions: { code: 'BAD_REQUEST' } }],
      });
      expect(body).toContain('graphql-transport-ws');
    }
  });

  it("refuses a web page's socket from an origin not in CORS_ORIGINS (cross-site WebSocket hijacking)", async () => {
    const socket = new WebSocket(h.url.href.replace(/^http/, 'ws'), 'graphql-transport-ws', {
      headers: { origin: 'https://evil.example' },
    });
    socket.on('error', () => {});
    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(403);
  });

  it('on shutdown: SHUTTING_DOWN, complete, then close 1001; new sockets refused', async () => {
    const raw = await connectRaw(h.url, bearer(tokens.bob));
    raw.send({ id: 'x', type: 'subscribe', payload: { query: WATCH, variables: { id: 'dev_b1' } } });
    expect((await raw.next())?.type).toBe('next');
    shutdown.abort();
    const closing = h.closeSubscriptions(20_000);
    expect(await raw.next()).toMatchObject({ id: 'x', type: 'next', payload: { errors: [{ extensions: { code: 'SHUTTING_DOWN' } }] } });
    expect(await raw.next()).toEqual({ id: 'x', type: 'complete' });
    expect(await raw.closed).toEqual({ code: 1001, reason: 'The server is shutting down' });
    await closing;
    const late = new WebSocket(h.url.href.replace(/^http/, 'ws'), 'graphql-transport-ws');
    late.on('error', () => {});
    const [, response] = (await once(late, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(503);
  });
});

describe('MAX_WEBSOCKETS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { MAX_WEBSOCKETS: '1' } });
  });
  afterAll(() => h.close());

  it('answers the upgrade past the limit with 503, and takes a socket again once one closes', async () => {
    const first = await connectRaw(h.url);
    const second = new WebSocket(h.url.href.replace(/^http/, 'ws'), 'graphql-transport-ws');
    second.on('error', () => {});
    const [, response] = (await once(second, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(503);
    first.socket.close(1000);
    await first.closed;
    await vi.waitFor(async () => (await connectRaw(h.url)).socket.close(1000));
  });
});
