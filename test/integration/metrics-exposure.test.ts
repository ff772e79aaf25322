import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type RawDevice, seedDevice } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';
import { freePort, startDev } from '../support/process.ts';

/**
 * Issue 21, finding 2: whoever could scrape `/metrics` on the apps' port, without a token,
 * told existing device ids from missing ones by the upstream outcome counts
 * (`outcome="ok"` vs `"NOT_FOUND"`) before and after a request of their own.
 */
const READ = 'query ($id: ID!) { device(id: $id) { id } }';

/** Every sample of the metrics that count upstream outcomes, by series. */
const outcomeSamples = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^flatpeak_(upstream_calls_total|upstream_attempt_duration_seconds_count|device_polls_total)\{/.test(line))
      .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
  );

describe('/metrics (CALLER_AUTH=jwt)', () => {
  let idp: IdentityProvider;
  let h: Harness;
  let bob = '';
  const alices: RawDevice = { ...seedDevice, id: 'dev_alice1', reference_id: 'alice' };

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      standin: { devices: [alices] },
      env: { CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    bob = await idp.token({ claims: { sub: 'bob' } });
    // The service's login to Flatpeak, out of the way of the counts below.
    await h.query(READ, { id: 'dev_alice1' }, { authorization: `Bearer ${bob}` });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('is not served on the apps’ port, with or without a token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${bob}` }] as Array<Record<string, string>>) {
      const response = await fetch(new URL('/metrics', h.url), { headers });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('flatpeak_');
    }
  });

  it('does not tell, even on its own port, an existing device of someone else from a missing one', async () => {
    const scrape = async () => outcomeSamples(await (await fetch(h.metricsUrl)).text());
    const probe = async (id: string) => {
      const before = await scrape();
      const { body } = await h.query(READ, { id }, { authorization: `Bearer ${bob}` });
      expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
      const after = await scrape();
      return Object.fromEntries(Object.entries(after).map(([series, value]) => [series, value - (before[series] ?? 0)]));
    };
    const existing = await probe('dev_alice1');
    const missing = await probe('dev_nosuchdevice');
    expect(missing).toEqual(existing);
    expect(Object.keys(existing).join()).not.toContain('NOT_FOUND');
  });
});

describe('METRICS_PORT (src/main.ts)', () => {
  it('serves /metrics on its own port and not on the apps’ one', async () => {
    const metricsPort = await freePort();
    const main = startDev({ PORT: '0', LOG_LEVEL: 'info', METRICS_PORT: String(metricsPort) });
    try {
      const url = String((await main.waitForLog((line) => typeof line.url === 'string' && line.url.endsWith('/graphql'))).url);
      await main.waitForLog((line) => line.url === `http://127.0.0.1:${metricsPort}/metrics`);
      expect((await fetch(new URL('/metrics', url))).status).toBe(404);
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('flatpeak_upstream_circuit_state');
      // Nothing but /metrics there.
      expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql?query=%7B__typename%7D`)).status).toBe(404);
    } finally {
      main.child.kill('SIGTERM');
      await main.exit();
    }
  });

  it('is on by default on port 9464, and off with off or 0', () => {
    const env = { FLATPEAK_API_URL: 'https://api.flatpeak.com' };
    expect(loadConfig(env).metricsPort).toBe(9464);
    expect(loadConfig({ ...env, METRICS_PORT: 'off' }).metricsPort).toBeUndefined();
    expect(loadConfig({ ...env, METRICS_PORT: '0' }).metricsPort).toBeUndefined();
  });
});
