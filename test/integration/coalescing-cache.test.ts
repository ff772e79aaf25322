import { afterEach, describe, expect, it, vi } from 'vitest';
import { SEED_DEVICE_ID, seedDevice } from '../../tools/standin/data.ts';
import { codesByPath, type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

const DEVICE = `{ device(id: "${SEED_DEVICE_ID}") { id referenceId } }`;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function harness(options: Parameters<typeof startHarness>[0]): Promise<Harness> {
  const h = await startHarness(options);
  cleanup.push(() => h.close());
  return h;
}

/** How many device reads the facade counted from `source`, from its /metrics. */
async function reads(h: Harness, source: string): Promise<number> {
  const text = await (await fetch(h.metricsUrl)).text();
  return Number(new RegExp(`^flatpeak_device_reads_total\\{source="${source}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

describe('coalescing identical loads across requests', () => {
  it('makes one upstream call for the same device however many requests wait for it', async () => {
    const h = await harness({});
    const paused = h.standin.pause();
    const answers = Array.from({ length: 10 }, () => h.query(DEVICE));
    // Every request has joined the one call in flight before Flatpeak answers it.
    await vi.waitFor(() => expect(reads(h, 'coalesced')).resolves.toBe(9), { timeout: 5_000 });
    paused.release();
    for (const { body } of await Promise.all(answers))
      expect(body).toEqual({ data: { device: { id: SEED_DEVICE_ID, referenceId: 'DEV1234567890' } } });
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('shares the call between callers, but each gets its own access decision', async () => {
    const idp = await startIdentityProvider();
    cleanup.push(() => idp.close());
    const h = await harness({
      env: { CALLER_AUTH: 'jwt', AUTH_JWKS_URL: idp.jwksUrl.href, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    const owner = await idp.token({ claims: { sub: String(seedDevice.reference_id) } });
    const stranger = await idp.token({ claims: { sub: 'someone-else' } });
    const paused = h.standin.pause();
    const asOwner = h.query(DEVICE, undefined, { authorization: `Bearer ${owner}` });
    const asStranger = h.query(DEVICE, undefined, { authorization: `Bearer ${stranger}` });
    await vi.waitFor(() => expect(reads(h, 'coalesced')).resolves.toBe(1));
    paused.release();
    expect((await asOwner).body).toEqual({ data: { device: { id: SEED_DEVICE_ID, referenceId: 'DEV1234567890' } } });
    const refused = (await asStranger).body;
    expect(refused.data).toEqual({ device: null });
    expect(codesByPath(refused)).toEqual({ device: 'NOT_FOUND' });
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('never shares a call between two Flatpeak credentials (pass-through tokens)', async () => {
    const h = await harness({ mode: 'pass-through' });
    const paused = h.standin.pause();
    const x = h.query(DEVICE, undefined, { authorization: 'Bearer token-x' });
    const y = h.query(DEVICE, undefined, { authorization: 'Bearer token-y' });
    await vi.waitFor(() => expect(h.standin.requests.filter((r) => r.path.startsWith('/devices/')).length).toBe(2));
    paused.release();
    await Promise.all([x, y]);
    expect(h.standin.requests.map((request) => request.headers.authorization).sort()).toEqual(['Bearer token-x', 'Bearer token-y']);
    expect(await reads(h, 'coalesced')).toBe(0);
  });
});

describe('device cache (DEVICE_CACHE_TTL_MS)', () => {
  it('is off by default: every response is no-store and every read goes upstream', async () => {
    const h = await harness({});
    const first = await h.query(DEVICE);
    const second = await h.query(DEVICE);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(h.standin.count('/devices/')).toBe(2);
  });

  it('when on, serves a device again without an upstream call and says how long the client may keep the response', async () => {
    const h = await harness({ env: { DEVICE_CACHE_TTL_MS: '60000' } });
    const first = await h.query(DEVICE);
    expect(first.headers.get('cache-control')).toBe('private, max-age=60');
    expect(first.headers.get('vary')).toMatch(/\bAuthorization\b/);
    const second = await h.query(DEVICE);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('cache-control')).toMatch(/^private, max-age=(59|60)$/);
    expect(h.standin.count('/devices/')).toBe(1);
    expect(await reads(h, 'cache')).toBe(1);
  });

  it('never caches an error, and a response with errors is no-store', async () => {
    const h = await harness({ env: { DEVICE_CACHE_TTL_MS: '60000', FLATPEAK_MAX_RETRIES: '0' } });
    h.standin.setFault((request) => (request.path.startsWith('/devices/') ? { status: 500 } : undefined));
    const failed = await h.query(DEVICE);
    expect(codesByPath(failed.body)).toEqual({ device: 'UPSTREAM_UNAVAILABLE' });
    expect(failed.headers.get('cache-control')).toBe('no-store');
    h.standin.setFault(undefined);
    expect((await h.query(DEVICE)).body.data).toEqual({ device: { id: SEED_DEVICE_ID, referenceId: 'DEV1234567890' } });
    expect(h.standin.count('/devices/')).toBe(2);
  });
});
