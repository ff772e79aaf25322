import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

/**
 * What a request holds (its deadline timer, its context) is let go when its answer is
 * complete, and a client that goes away cancels its upstream work, whenever it goes: also
 * before the request's context exists (here: while the facade fetches the key set to
 * verify the caller's token), when no `close` event is still to come, and while its
 * response waits behind a pipelined one, when Node emits no `close` for it at all.
 */

const HANGING = sampleDevices()[5]!.id;

/** The identity provider's key set, each fetch held until released. */
async function startHeldKeySet(idp: IdentityProvider): Promise<{ url: URL; held: number; release(): void; close(): Promise<void> }> {
  const waiting: Array<() => void> = [];
  let held = 0;
  const server: Server = createServer((_req, res) => {
    held += 1;
    waiting.push(() => {
      void fetch(idp.jwksUrl)
        .then((response) => response.text())
        .then((keys) => res.writeHead(200, { 'content-type': 'application/json' }).end(keys));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`),
    get held() {
      return held;
    },
    release: () => waiting.splice(0).forEach((send) => send()),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe.each([
  ['the fast lane', true],
  ['Yoga', false],
])('a client gone before its request has a context (%s)', (_name, fastLane) => {
  let idp: IdentityProvider;
  let keySet: Awaited<ReturnType<typeof startHeldKeySet>>;
  let h: Harness;
  const lines: string[] = [];

  beforeAll(async () => {
    idp = await startIdentityProvider();
    keySet = await startHeldKeySet(idp);
    h = await startHarness({
      fastLane,
      logger: createLogger('info', { write: (line: string) => void lines.push(line) }),
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: keySet.url.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        // Only the client's leaving may end this request early.
        REQUEST_DEADLINE_MS: '60000',
        FLATPEAK_ATTEMPT_TIMEOUT_MS: '60000',
      },
    });
    h.standin.setFault((seen) => (seen.path === `/devices/${HANGING}` ? { hang: true } : undefined));
  });
  afterAll(async () => {
    await h?.close();
    await keySet?.close();
    await idp?.close();
  });

  it('makes no upstream call for it', async () => {
    const token = await idp.token({ claims: { sub: 'backoffice', scope: 'devices:read:all' } });
    const body = JSON.stringify({ query: `{ device(id: "${HANGING}") { id } }` });
    const serverSide = once(h.server, 'connection') as Promise<[Socket]>;
    const client = connect(Number(h.url.port), '127.0.0.1', () =>
      client.write(
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      ),
    );
    client.on('error', () => {});
    const [socket] = await serverSide;
    const closed = once(socket, 'close');
    // The facade is verifying the token: the request has no context yet. Now the client goes.
    await vi.waitFor(() => expect(keySet.held).toBe(1));
    client.destroy();
    await closed;
    keySet.release();

    // The request ends at once, rather than at its deadline, and has not called Flatpeak.
    await vi.waitFor(
      () => expect(lines.some((line) => line.includes('"msg":"request"') && line.includes('"path":"/graphql"'))).toBe(true),
      { timeout: 5_000 },
    );
    expect(h.standin.count(`/devices/${HANGING}`)).toBe(0);
  });
});

describe('a request refused before it executes (CALLER_AUTH=jwt, no token)', () => {
  // A deadline no other timer of the process has, to tell the requests' timers apart.
  const DEADLINE_MS = 43_210;
  let idp: IdentityProvider;
  let h: Harness;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await idp?.close();
  });

  it('lets go of its deadline timer with its answer, not at the deadline (a flood of 401s would hold every context meanwhile)', async () => {
    const started = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    let deadlines: unknown[];
    let clearedHandles: Set<unknown>;
    try {
      for (let i = 0; i < 3; i += 1) expect((await h.query(`{ device(id: "${HANGING}") { id } }`)).status).toBe(401);
      deadlines = started.mock.calls.flatMap(([, ms], at) => (ms === DEADLINE_MS ? [started.mock.results[at]!.value as unknown] : []));
      clearedHandles = new Set(cleared.mock.calls.map(([handle]) => handle as unknown));
    } finally {
      started.mockRestore();
      cleared.mockRestore();
    }
    expect(deadlines).toHaveLength(3);
    expect(deadlines.filter((handle) => !clearedHandles.has(handle))).toEqual([]);
  });
});

describe.each([
  ['the fast lane', true],
  ['Yoga', false],
])('a client gone with pipelined requests in flight (%s)', (_name, fastLane) => {
  // More than ten: were they all started, Node would warn of a leak past ten listeners on one connection.
  const ids = sampleDevices()
    .slice(10, 22)
    .map((device) => device.id);
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ fastLane, env: { REQUEST_DEADLINE_MS: '60000', FLATPEAK_ATTEMPT_TIMEOUT_MS: '60000' } });
    h.standin.setFault((seen) => (ids.some((id) => seen.path === `/devices/${id}`) ? { hang: true } : undefined));
  });
  afterAll(() => h?.close());

  it('cancels the upstream call of the one running, and never starts those queued behind it, with no warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    const request = (id: string) => {
      const body = JSON.stringify({ query: `{ device(id: "${id}") { id } }` });
      return `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    };
    const client = connect(Number(h.url.port), '127.0.0.1', () => client.write(ids.map(request).join('')));
    client.on('error', () => {});
    // A connection's requests start one after the other (src/http/admission.ts).
    await vi.waitFor(() => expect(h.standin.count('/devices/')).toBe(1));
    client.destroy();
    await vi.waitFor(() => expect(h.standin.aborted).toBe(1));
    // Answered after the client left: had a queued request started then, Flatpeak would have seen it first.
    expect((await h.query(`{ device(id: "${SEED_DEVICE_ID}") { id } }`)).body).toEqual({ data: { device: { id: SEED_DEVICE_ID } } });
    expect(h.standin.requests.filter((seen) => ids.some((id) => seen.path === `/devices/${id}`))).toHaveLength(1);
    process.off('warning', onWarning);
    expect(warnings.map((warning) => warning.message)).toEqual([]);
  });
});
