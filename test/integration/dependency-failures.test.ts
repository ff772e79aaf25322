import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { DEMO_API_KEY } from '../../tools/standin/server.ts';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { faultOn } from '../support/faults.ts';
import { type Harness, type HarnessOptions, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { freePort } from '../support/process.ts';

/**
 * When the JWKS cannot be fetched, Flatpeak refuses or cannot be reached for the service's
 * login, or Redis is away, the log says so at warn with the reason (once a minute per
 * cause, however many requests fail meanwhile), never a secret, and /metrics counts every
 * failure in flatpeak_dependency_failures_total{dependency,reason}.
 */

type Line = Record<string, unknown>;

let h: Harness | undefined;
let idp: IdentityProvider | undefined;
afterEach(async () => {
  await h?.close();
  await idp?.close();
  h = undefined;
  idp = undefined;
});

/** A facade whose log lines the test reads. */
async function start(options: HarnessOptions): Promise<{ h: Harness; lines: Line[]; text: () => string }> {
  let text = '';
  const logger = createLogger('debug', { write: (line: string) => void (text += line) });
  h = await startHarness({ ...options, logger });
  return {
    h,
    text: () => text,
    get lines() {
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Line);
    },
  };
}

const warnings = (lines: Line[], dependency: string) => lines.filter((line) => line.level === 40 && line.dependency === dependency);

async function failures(h: Harness, dependency: string, reason: string): Promise<number> {
  const text = await (await fetch(h.metricsUrl)).text();
  const match = new RegExp(`^flatpeak_dependency_failures_total\\{dependency="${dependency}",reason="${reason}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return match ? Number(match[1]) : 0;
}

const DEVICE = `{ device(id: "${SEED_DEVICE_ID}") { id } }`;

describe('the JWKS cannot be fetched', () => {
  const jwtEnv = (jwksUrl: URL) => ({ CALLER_AUTH: 'jwt', AUTH_JWKS_URL: jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });

  it('unreachable: each request gets 503, the log says why once, the metric counts every fetch', async () => {
    idp = await startIdentityProvider();
    const token = await idp.token({ claims: { sub: 'user-a' } });
    const dead = new URL(`http://127.0.0.1:${await freePort()}/.well-known/jwks.json`);
    const facade = await start({ env: jwtEnv(dead) });
    for (let i = 0; i < 5; i += 1) {
      const { status, body } = await facade.h.query(DEVICE, undefined, { authorization: `Bearer ${token}` });
      expect(status).toBe(503);
      expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    }
    const lines = warnings(facade.lines, 'jwks');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      reason: 'unreachable',
      cause: 'ECONNREFUSED',
      jwks: `${dead.origin}/.well-known/jwks.json`,
      msg: expect.stringContaining("cannot fetch the identity provider's signing keys (AUTH_JWKS_URL)") as unknown,
    });
    // Jose refetches the key set for each request while it has none: five fetches, five failures.
    expect(await failures(facade.h, 'jwks', 'unreachable')).toBe(5);
    expect(facade.text()).not.toContain(token.split('.')[2]!);
  });

  it('a bad answer (HTTP 404): another reason, its own line; the URL’s query (which may hold a secret) is not logged', async () => {
    idp = await startIdentityProvider();
    const token = await idp.token({ claims: { sub: 'user-a' } });
    const missing = new URL('/keys.json?access_key=s3cret-query-value', idp.jwksUrl);
    const facade = await start({ env: jwtEnv(missing) });
    for (let i = 0; i < 3; i += 1) expect((await facade.h.query(DEVICE, undefined, { authorization: `Bearer ${token}` })).status).toBe(503);
    const lines = warnings(facade.lines, 'jwks');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      reason: 'bad_response',
      jwks: `${missing.origin}/keys.json`,
      err: { message: expect.stringContaining('200 OK') as unknown },
    });
    expect(await failures(facade.h, 'jwks', 'bad_response')).toBe(3);
    expect(facade.text()).not.toContain('s3cret-query-value');
  });
});

describe('Flatpeak refuses or cannot be reached for the login with the service credentials', () => {
  // The status page's own probe logs in too: once at the first scrape, then not for 10 minutes.
  const env = { FLATPEAK_PROBE_INTERVAL_MS: '600000' };

  it('refused (a wrong key): one line with the reason and status, no key; every failed login counted', async () => {
    const apiKey = 'sk_wrong_and_secret_4711';
    const facade = await start({ env: { ...env, FLATPEAK_API_KEY: apiKey } });
    // A failed login is reused for 1 s, then the next request logs in again: wait for three.
    await vi.waitFor(
      async () => {
        const { body } = await facade.h.query(DEVICE);
        expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
        expect(facade.h.standin.count('/login')).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000, interval: 100 },
    );
    await failures(facade.h, 'flatpeak_login', 'refused'); // the first scrape probes (and logs in) once
    const logins = facade.h.standin.count('/login');
    expect(await failures(facade.h, 'flatpeak_login', 'refused')).toBe(logins);
    const lines = warnings(facade.lines, 'flatpeak_login');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      reason: 'refused',
      status: 401,
      err: { code: 'UNAUTHENTICATED' },
      msg: expect.stringContaining('cannot log in to Flatpeak with the service credentials') as unknown,
    });
    expect(facade.text()).not.toContain(apiKey);
    const basic = facade.h.standin.requests.find((request) => request.path === '/login')!.headers.authorization!;
    expect(facade.text()).not.toContain(basic.replace(/^Basic /, ''));
  });

  it('unreachable (the connection reset): the reason and its cause, once; counted', async () => {
    const facade = await start({ env });
    facade.h.standin.setFault(faultOn('/login', { reset: true }));
    await vi.waitFor(
      async () => {
        const { body } = await facade.h.query(DEVICE);
        expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
        expect(await failures(facade.h, 'flatpeak_login', 'unreachable')).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000, interval: 100 },
    );
    const lines = warnings(facade.lines, 'flatpeak_login');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'unreachable', err: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(facade.text()).not.toContain(DEMO_API_KEY);
  });
});

describe('Redis is down', () => {
  it('requests are served without it; one line with the reason and host, never the password; every failure counted', async () => {
    const password = 'r3dis-pa55word-secret';
    const port = await freePort(); // nothing listens there
    const facade = await start({ env: { REDIS_URL: `redis://:${password}@127.0.0.1:${port}`, DEVICE_CACHE_TTL_MS: '60000' } });
    for (let i = 0; i < 5; i += 1) {
      const { body } = await facade.h.query(DEVICE);
      expect(body.errors).toBeUndefined();
    }
    // The reads' cache lookups and writes failed, and so did the connection's attempts.
    await vi.waitFor(async () => expect(await failures(facade.h, 'redis', 'unreachable')).toBeGreaterThanOrEqual(10), {
      timeout: 5_000,
      interval: 50,
    });
    const lines = warnings(facade.lines, 'redis');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      reason: 'unreachable',
      redis: `127.0.0.1:${port}`,
      msg: expect.stringMatching(/^Redis is unavailable/) as unknown,
    });
    expect(facade.text()).not.toContain(password);
  });
});
