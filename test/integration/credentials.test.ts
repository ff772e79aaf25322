import { afterEach, describe, expect, it, vi } from 'vitest';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DeviceByIdDocument, DeviceIdsOnlyDocument } from '../__generated__/graphql.ts';
import { codesByPath, type Harness, startHarness } from '../support/harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ids = sampleDevices()
  .slice(3, 13)
  .map((device) => device.id);

describe('service credentials', () => {
  it('logs in once for many concurrent requests and sends the bearer token upstream', async () => {
    h = await startHarness({ mode: 'service' });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h!.query(DeviceIdsOnlyDocument, { ids: [ids[i % ids.length]!] })),
    );
    for (const { body } of responses) expect(body.errors).toBeUndefined();
    expect(h.standin.count('/login')).toBe(1);
    const login = h.standin.requests.find((request) => request.path === '/login')!;
    expect(login.headers.authorization).toMatch(/^Basic /);
    const deviceCalls = h.standin.requests.filter((request) => request.path.startsWith('/devices/'));
    expect(new Set(deviceCalls.map((request) => request.headers.authorization)).size).toBe(1);
    expect(deviceCalls[0]!.headers.authorization).toMatch(/^Bearer eyJstandin\./);
  });

  it('renews the token before it expires, without failing a request', async () => {
    // Tokens that live 1 s: renewal is due after 0.9 s.
    h = await startHarness({ mode: 'service', standin: { tokenTtlSeconds: 1 } });
    const tokensUsed = () =>
      new Set(
        h!.standin.requests.filter((request) => request.path.startsWith('/devices/')).map((request) => request.headers.authorization),
      );
    await vi.waitFor(
      async () => {
        const { body } = await h!.query(DeviceIdsOnlyDocument, { ids: [ids[0]!] });
        expect(body.errors).toBeUndefined();
        expect(tokensUsed().size).toBe(2);
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(h.standin.count('/login')).toBe(2);
  });

  it('logs in again, once, when Flatpeak stops accepting the token', async () => {
    h = await startHarness({ mode: 'service' });
    await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID });
    h.standin.revokeTokens();
    h.standin.resetLog();
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: ids.slice(0, 5) });
    expect(body.errors).toBeUndefined();
    expect(body.data?.devices).toHaveLength(5);
    expect(h.standin.count('/login')).toBe(1);
    // Each device: one refused call with the old token, one retry with the new one.
    expect(h.standin.count('/devices/')).toBe(10);
  });

  it("reports rejected service credentials as the service's problem (UPSTREAM_UNAVAILABLE), not the caller's, without looping", async () => {
    h = await startHarness({ mode: 'service', env: { FLATPEAK_API_KEY: 'sk_wrong' } });
    const { status, body } = await h.query(DeviceIdsOnlyDocument, { ids: ids.slice(0, 3) });
    expect(status).toBe(200);
    expect(body.data?.devices).toEqual([null, null, null]);
    expect(codesByPath(body)).toEqual({
      'devices.0': 'UPSTREAM_UNAVAILABLE',
      'devices.1': 'UPSTREAM_UNAVAILABLE',
      'devices.2': 'UPSTREAM_UNAVAILABLE',
    });
    expect(body.errors?.[0]).toMatchObject({
      message: "Flatpeak refused this service's credentials",
      extensions: { upstream: { status: 401 } },
    });
    expect(h.standin.count('/login')).toBe(1);
    expect(h.standin.count('/devices/')).toBe(0);
  });
});

describe('CORS_ORIGINS', () => {
  it('lets only the listed origins read responses, without credentials', async () => {
    h = await startHarness({ env: { CORS_ORIGINS: 'https://app.example' } });
    const allowed = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it.each(['https://evil.example', 'null'])(
    'gives an unlisted origin (%s) no CORS header at all when several are listed',
    async (origin) => {
      h = await startHarness({ env: { CORS_ORIGINS: 'https://app.example,https://admin.example' } });
      const listed = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { origin: 'https://admin.example' });
      expect(listed.headers.get('access-control-allow-origin')).toBe('https://admin.example');
      const preflight = await fetch(new URL('/graphql', h.url), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      // A sandboxed iframe sends `Origin: null`; Yoga would have answered it `null`, which matches.
      const unlisted = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { origin });
      expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
    },
  );
});

describe('pass-through', () => {
  it('forwards the caller’s bearer token and never logs in', async () => {
    h = await startHarness({ mode: 'pass-through' });
    const { body } = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { authorization: 'Bearer caller-token-1' });
    expect(body.errors).toBeUndefined();
    expect(body.data?.device?.id).toBe(SEED_DEVICE_ID);
    expect(h.standin.count('/login')).toBe(0);
    expect(h.standin.requests[0]!.headers.authorization).toBe('Bearer caller-token-1');
  });

  it('keeps callers apart: each request uses its own token', async () => {
    h = await startHarness({ mode: 'pass-through' });
    await Promise.all([
      h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { authorization: 'Bearer alice' }),
      h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { authorization: 'Bearer bob' }),
    ]);
    expect(h.standin.requests.map((request) => request.headers.authorization).sort()).toEqual(['Bearer alice', 'Bearer bob']);
  });

  it.each([undefined, 'Basic abc', 'Bearer'])(
    'answers Authorization %j with UNAUTHENTICATED and no upstream call',
    async (authorization) => {
      h = await startHarness({ mode: 'pass-through' });
      const { status, body } = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, authorization ? { authorization } : {});
      expect(status).toBe(200);
      expect(body.data?.device).toBeNull();
      expect(codesByPath(body)).toEqual({ device: 'UNAUTHENTICATED' });
      expect(h.standin.count()).toBe(0);
    },
  );

  it('passes Flatpeak’s refusal of the caller’s token on as UNAUTHENTICATED', async () => {
    h = await startHarness({ mode: 'pass-through', standin: { acceptAnyBearer: false } });
    const { body } = await h.query(DeviceByIdDocument, { id: SEED_DEVICE_ID }, { authorization: 'Bearer expired' });
    expect(codesByPath(body)).toEqual({ device: 'UNAUTHENTICATED' });
    expect(h.standin.count('/devices/')).toBe(1);
  });

  it('still serves the schema to callers without a token', async () => {
    h = await startHarness({ mode: 'pass-through' });
    const { body } = await h.query('{ _service { sdl } __type(name: "Device") { description } }');
    expect(body.errors).toBeUndefined();
    expect(body.data).toMatchObject({ __type: { description: expect.stringContaining('device') } });
  });
});
