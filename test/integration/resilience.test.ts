import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { DeviceIdsOnlyDocument } from '../__generated__/graphql.ts';
import { anyOf, faultOn } from '../support/faults.ts';
import { codesByPath, type Harness, startHarness } from '../support/harness.ts';

const [a, b, c, d, e, f, g, h_, i, j] = sampleDevices()
  .slice(3, 13)
  .map((device) => device.id) as [string, string, string, string, string, string, string, string, string, string];
const path = (id: string) => `/devices/${id}`;

// Short deadlines keep the suite fast; the breaker stays out of the way unless a test wants it.
const FAST = {
  REQUEST_DEADLINE_MS: '1500',
  FLATPEAK_ATTEMPT_TIMEOUT_MS: '400',
  FLATPEAK_BREAKER_MIN_CALLS: '100000',
  FLATPEAK_BREAKER_OUTAGE_FAILURES: '100000',
  FLATPEAK_BREAKER_OUTAGE_MS: '600000',
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The value of one Prometheus sample from /metrics, e.g. `flatpeak_upstream_retries_total`. */
async function metric(h: Harness, sample: string): Promise<number | undefined> {
  const text = await fetch(h.metricsUrl).then((response) => response.text());
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

async function harness(env: Record<string, string> = {}, options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness({ ...options, env: { ...FAST, ...env } });
  // Log in before counting, so counts are of device calls only.
  await h.query(DeviceIdsOnlyDocument, { ids: [SEED_DEVICE_ID] });
  h.standin.resetLog();
  return h;
}

describe('retries', () => {
  it('spends one extra request on a transient 503, and none on a 404', async () => {
    const h = await harness();
    const okBefore = (await metric(h, 'flatpeak_upstream_calls_total{outcome="ok"}')) ?? 0;
    h.standin.setFault(faultOn(path(a), { status: 503 }, 1));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a, 'dev_absent', b] });
    expect(body.data?.devices).toEqual([{ id: a }, null, { id: b }]);
    expect(codesByPath(body)).toEqual({ 'devices.1': 'NOT_FOUND' });
    expect(h.standin.count(path(a))).toBe(2);
    expect(h.standin.count('/devices/dev_absent')).toBe(1);
    expect(h.standin.count(path(b))).toBe(1);
    expect(await metric(h, 'flatpeak_upstream_retries_total')).toBe(1);
    // Flatpeak's 404 is an answer: counted ok, so that the metrics cannot tell which ids exist.
    expect(await metric(h, 'flatpeak_upstream_calls_total{outcome="ok"}')).toBe(okBefore + 3);
  });

  it.each([
    ['a connection reset', { reset: true }],
    ['502', { status: 502 }],
    ['504', { status: 504, body: '<html><h1>Gateway Timeout</h1></html>' }],
    ['429 without Retry-After', { status: 429 }],
    ['429 with Retry-After: 0', { status: 429, headers: { 'retry-after': '0' } }],
  ])('retries once after %s and returns the device', async (_name, fault) => {
    const h = await harness();
    h.standin.setFault(faultOn(path(a), fault, 1));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a] });
    expect(body).toEqual({ data: { devices: [{ id: a }] } });
    expect(h.standin.count(path(a))).toBe(2);
  });

  it.each([
    ['500', { status: 500 }, 'UPSTREAM_UNAVAILABLE'],
    ['403', { status: 403 }, 'FORBIDDEN'],
    ['400', { status: 400 }, 'UPSTREAM_REJECTED'],
    ['a body that is not JSON', { status: 200, body: 'OK' }, 'UPSTREAM_BAD_RESPONSE'],
    ['an HTML page', { status: 200, body: '<!doctype html><p>maintenance</p>' }, 'UPSTREAM_BAD_RESPONSE'],
    [
      'JSON of the wrong shape',
      { status: 200, body: '{"object":"device","id":5}', contentType: 'application/json' },
      'UPSTREAM_BAD_RESPONSE',
    ],
  ])('does not retry %s', async (_name, fault, code) => {
    const h = await harness();
    h.standin.setFault(faultOn(path(a), fault));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [b, a] });
    expect(body.data?.devices).toEqual([{ id: b }, null]);
    expect(codesByPath(body)).toEqual({ 'devices.1': code });
    expect(h.standin.count(path(a))).toBe(1);
  });

  it('gives up after the configured retries on a persistent 503', async () => {
    const h = await harness({ FLATPEAK_MAX_RETRIES: '2' });
    h.standin.setFault(faultOn(path(a), { status: 503, code: 'maintenance' }));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a] });
    expect(body.errors?.[0]).toMatchObject({
      path: ['devices', 0],
      extensions: { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 503, code: 'maintenance' } },
    });
    expect(h.standin.count(path(a))).toBe(3);
  });

  it('does not wait for a Retry-After that would pass the deadline', async () => {
    const h = await harness();
    h.standin.setFault(faultOn(path(a), { status: 429, headers: { 'retry-after': '30' } }));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a] });
    expect(codesByPath(body)).toEqual({ 'devices.0': 'RATE_LIMITED' });
    expect(h.standin.count(path(a))).toBe(1);
  });

  it('keeps retries within the budget when everything fails', async () => {
    // Budget: 20% of calls plus a floor of 5 per second over a 10 s window (50). The
    // harness's login and warm-up call count as calls too (+2).
    const h = await harness({ FLATPEAK_MAX_RETRIES: '3', REQUEST_DEADLINE_MS: '5000' });
    h.standin.setFault((request) => (request.path.startsWith('/devices/') ? { status: 503 } : undefined));
    const ids = sampleDevices().map((device) => device.id);
    let calls = 0;
    for (let round = 0; round < 4; round += 1) {
      const { body } = await h.query(DeviceIdsOnlyDocument, { ids });
      expect(body.data?.devices).toHaveLength(ids.length);
      calls += ids.length;
    }
    const retries = h.standin.count('/devices/') - calls;
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(Math.ceil(50 + 0.2 * (calls + 2)));
    expect(retries).toBeLessThan(3 * calls);
  });
});

describe('deadlines', () => {
  it('answers a hung device with UPSTREAM_TIMEOUT and its neighbours with data', async () => {
    const h = await harness();
    h.standin.setFault(faultOn(path(b), { hang: true }));
    const { status, body } = await h.query(DeviceIdsOnlyDocument, { ids: [a, b, c] });
    expect(status).toBe(200);
    expect(body.data?.devices).toEqual([{ id: a }, null, { id: c }]);
    expect(codesByPath(body)).toEqual({ 'devices.1': 'UPSTREAM_TIMEOUT' });
    expect(h.standin.count(path(b))).toBe(1); // a timeout is not retried
  });

  it('cuts everything at the request deadline, even when the attempt timeout is longer', async () => {
    const h = await harness({ REQUEST_DEADLINE_MS: '600', FLATPEAK_ATTEMPT_TIMEOUT_MS: '60000' });
    h.standin.setFault(faultOn(path(b), { hang: true }));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a, b] });
    expect(body.data?.devices).toEqual([{ id: a }, null]);
    expect(body.errors?.[0]).toMatchObject({ path: ['devices', 1], extensions: { code: 'UPSTREAM_TIMEOUT' } });
    expect(body.errors?.[0]?.message).toMatch(/deadline/);
    // The hung call was cancelled, not left open.
    await vi.waitFor(() => expect(h.standin.aborted).toBe(1));
  });

  it('serves slow answers that fit in the attempt timeout', async () => {
    const h = await harness();
    h.standin.setFault(anyOf(faultOn(path(a), { delayMs: 80 }), faultOn(path(b), { delayMs: 30 })));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a, b, c] });
    expect(body).toEqual({ data: { devices: [{ id: a }, { id: b }, { id: c }] } });
  });

  it('cancels the upstream calls of a client that went away', async () => {
    const h = await harness({ REQUEST_DEADLINE_MS: '60000', FLATPEAK_ATTEMPT_TIMEOUT_MS: '60000' });
    h.standin.setFault(faultOn(path(a), { hang: true }));
    const controller = new AbortController();
    const pending = fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ devices(ids: ["${a}"]) { id } }` }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(h.standin.count(path(a))).toBe(1));
    controller.abort();
    await pending;
    await vi.waitFor(() => expect(h.standin.aborted).toBe(1));
    expect(h.standin.count(path(a))).toBe(1);
  });
});

describe('circuit breaker', () => {
  it('fails fast without calling Flatpeak while open, then lets a probe through', async () => {
    const h = await harness({ FLATPEAK_BREAKER_MIN_CALLS: '3', FLATPEAK_BREAKER_COOLDOWN_MS: '3000', FLATPEAK_MAX_RETRIES: '0' });
    // A cool-down long enough that a stall on a loaded runner does not turn the second
    // request below into the half-open probe.
    h.standin.setFault((request) => (request.path.startsWith('/devices/') ? { status: 503 } : undefined));
    const opening = await h.query(DeviceIdsOnlyDocument, { ids: [a, b, c] });
    expect(Object.values(codesByPath(opening.body))).toEqual(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE']);
    expect(h.standin.count('/devices/')).toBe(3);

    h.standin.resetLog();
    h.standin.setFault(undefined); // Flatpeak recovers, but the facade does not know yet
    const open = await h.query(DeviceIdsOnlyDocument, { ids: [d, e, f, g, h_] });
    expect(open.body.data?.devices).toEqual([null, null, null, null, null]);
    expect(open.body.errors?.every((error) => error.extensions?.code === 'UPSTREAM_UNAVAILABLE' && /paused/.test(error.message))).toBe(
      true,
    );
    expect(h.standin.count()).toBe(0);
    expect(await metric(h, 'flatpeak_upstream_circuit_state{state="open"}')).toBe(1);
    expect(await metric(h, 'flatpeak_upstream_circuit_state{state="closed"}')).toBe(0);
    const status = (await fetch(new URL('/status', h.url)).then((response) => response.json())) as {
      ready: boolean;
      flatpeak: { circuit: string };
    };
    expect(status).toMatchObject({ ready: true, flatpeak: { circuit: 'open' } });

    // After the cool-down one probe goes through, succeeds, and closes the circuit.
    await vi.waitFor(
      async () => {
        const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [i] });
        expect(body).toEqual({ data: { devices: [{ id: i }] } });
      },
      { timeout: 10_000, interval: 100 },
    );
    const closed = await h.query(DeviceIdsOnlyDocument, { ids: [i, j] });
    expect(closed.body.errors).toBeUndefined();
    expect(await metric(h, 'flatpeak_upstream_circuit_state{state="closed"}')).toBe(1);
  });
});

describe('backpressure', () => {
  it('bounds concurrent upstream calls and refuses work beyond the queue at once', async () => {
    const h = await harness({
      FLATPEAK_MAX_CONNECTIONS: '2',
      FLATPEAK_MAX_QUEUE: '3',
      // Long enough that a loaded machine still queues the calls before the deadline passes.
      REQUEST_DEADLINE_MS: '2000',
      FLATPEAK_ATTEMPT_TIMEOUT_MS: '60000',
    });
    h.standin.setFault((request) => (request.path.startsWith('/devices/') ? { hang: true } : undefined));
    const ids = [a, b, c, d, e, f, g, h_, i, j];
    const { status, body } = await h.query(DeviceIdsOnlyDocument, { ids });
    expect(status).toBe(200);
    expect(body.data?.devices).toEqual(ids.map(() => null));
    const codes = Object.values(codesByPath(body));
    expect(codes.filter((code) => code === 'UPSTREAM_OVERLOADED')).toHaveLength(5);
    expect(codes.filter((code) => code === 'UPSTREAM_TIMEOUT')).toHaveLength(5);
    expect(h.standin.count('/devices/')).toBe(2);
    expect(h.standin.maxInFlight).toBe(2);
  });
});

describe('per-request limits', () => {
  it('keeps at most FLATPEAK_MAX_CALLS_PER_REQUEST calls of one request in flight, and serves them all', async () => {
    const h = await harness({ FLATPEAK_MAX_CALLS_PER_REQUEST: '3' });
    h.standin.setFault((request) => (request.path.startsWith('/devices/') ? { delayMs: 30 } : undefined));
    const ids = [a, b, c, d, e, f, g, h_];
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids });
    expect(body).toEqual({ data: { devices: ids.map((id) => ({ id })) } });
    expect(h.standin.count('/devices/')).toBe(8);
    expect(h.standin.maxInFlight).toBe(3);
  });

  it('loads at most MAX_DEVICES_PER_REQUEST distinct devices, however many aliases ask', async () => {
    const h = await harness({ MAX_DEVICES_PER_REQUEST: '4' });
    const { status, body } = await h.query(
      `query ($first: [ID!]!, $second: [ID!]!) { one: devices(ids: $first) { id } two: devices(ids: $second) { id } }`,
      { first: [a, b, c, a], second: [d, e, b] },
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({ one: [{ id: a }, { id: b }, { id: c }, { id: a }], two: [{ id: d }, null, { id: b }] });
    expect(codesByPath(body)).toEqual({ 'two.1': 'BAD_USER_INPUT' });
    expect(h.standin.count('/devices/')).toBe(4);
  });
});

describe('credentials under failure', () => {
  it('reports a failing login as UPSTREAM_UNAVAILABLE and recovers when Flatpeak does', async () => {
    h = await startHarness({ env: FAST });
    h.standin.setFault(faultOn('/login', { status: 503 }));
    const { status, body } = await h.query(DeviceIdsOnlyDocument, { ids: [a, b] });
    expect(status).toBe(200);
    expect(Object.values(codesByPath(body))).toEqual(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE']);
    expect(h.standin.count('/devices/')).toBe(0);
    expect(h.standin.count('/login')).toBe(3); // one login, retried twice, shared by both items

    h.standin.setFault(undefined);
    await vi.waitFor(
      async () => {
        const retry = await h!.query(DeviceIdsOnlyDocument, { ids: [a, b] });
        expect(retry.body.errors).toBeUndefined();
      },
      { timeout: 5_000, interval: 100 },
    );
  });
});

describe('logs', () => {
  it('writes one warning per request with counts by code, and no token or key', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    h = await startHarness({ env: { ...FAST, FLATPEAK_MAX_RETRIES: '0' }, logger });
    h.standin.setFault((request) => ([path(b), path(c), path(d)].includes(request.path) ? { status: 503 } : undefined));
    const { body } = await h.query(DeviceIdsOnlyDocument, { ids: [a, b, c, d, 'dev_absent'] });
    expect(body.data?.devices).toEqual([{ id: a }, null, null, null, null]);
    // dev_absent is a 404: the caller's concern, not a warning.
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ failures: { UPSTREAM_UNAVAILABLE: 3 }, upstream: { status: 503 } });
    expect(JSON.stringify(lines)).not.toMatch(/eyJstandin|sk_standin|Bearer |Basic /);
  });
});

describe('/ready, /health and /status', () => {
  const ready = (h: Harness) => fetch(new URL('/ready', h.url)).then((response) => response.status);
  const status = (h: Harness) => fetch(new URL('/status', h.url)).then((response) => response.json() as Promise<Record<string, any>>);

  it('is ready whatever Flatpeak does, and never asks it', async () => {
    const h = await harness();
    h.standin.setFault((request) => (request.path === '/login' || request.path.startsWith('/devices') ? { status: 503 } : undefined));
    for (let n = 0; n < 5; n += 1) expect(await ready(h)).toBe(200);
    expect((await fetch(new URL('/health', h.url))).status).toBe(200);
    expect(h.standin.count()).toBe(0);
  });

  it('reports Flatpeak failing and recovering in /status and /metrics, probing it at most once per interval', async () => {
    const h = await harness({ FLATPEAK_PROBE_INTERVAL_MS: '1' });
    h.standin.setFault(faultOn('/devices?limit=1', { status: 503 }));
    expect(await status(h)).toMatchObject({
      ready: true,
      flatpeak: {
        credentials: 'service',
        circuit: 'closed',
        login: { ok: true },
        probe: { ok: false, status: 503, at: expect.any(String) },
      },
    });
    expect(await metric(h, 'flatpeak_upstream_reachable')).toBe(0);
    expect(await ready(h)).toBe(200);
    h.standin.setFault(undefined);
    await vi.waitFor(async () => expect((await status(h)).flatpeak.probe).toMatchObject({ ok: true, status: 200 }), { interval: 20 });
    expect(await metric(h, 'flatpeak_upstream_reachable')).toBe(1);
    expect(await metric(h, 'flatpeak_upstream_login_ok')).toBe(1);

    const patient = await startHarness({ env: { ...FAST, FLATPEAK_PROBE_INTERVAL_MS: '600000' } });
    try {
      for (let n = 0; n < 3; n += 1) await status(patient);
      await fetch(patient.metricsUrl);
      expect(patient.standin.count('/devices?limit=1')).toBe(1);
    } finally {
      await patient.close();
    }
  });

  it('reports rejected service credentials in /status and /metrics, and stays ready', async () => {
    h = await startHarness({ env: { ...FAST, FLATPEAK_API_KEY: 'sk_revoked' } });
    const { flatpeak } = await status(h);
    // What Flatpeak said, which callers see as UPSTREAM_UNAVAILABLE (it is not their token).
    expect(flatpeak.login).toMatchObject({ ok: false, status: 401, error: 'UNAUTHENTICATED' });
    expect(flatpeak.probe).toMatchObject({ ok: false, error: 'UNAUTHENTICATED' });
    expect(JSON.stringify(flatpeak)).not.toMatch(/sk_revoked|eyJ/);
    expect(await metric(h, 'flatpeak_upstream_login_ok')).toBe(0);
    expect(await ready(h)).toBe(200);
  });

  it('exposes Prometheus metrics for GraphQL requests and the upstream, without caller-chosen labels', async () => {
    const h = await harness();
    const okBefore = (await metric(h, 'flatpeak_upstream_calls_total{outcome="ok"}')) ?? 0;
    await h.query(`query PickedByTheCaller_${Date.now()} { devices(ids: ["${a}", "dev_nope"]) { id } }`);
    const text = await fetch(h.metricsUrl).then((response) => response.text());
    expect(text).toMatch(/^graphql_yoga_http_duration_count\{method="POST",statusCode="200",operationType="query"\} [1-9]/m);
    expect(text).toContain(`flatpeak_upstream_calls_total{outcome="ok"} ${okBefore + 2}\n`);
    expect(text).not.toContain('NOT_FOUND');
    expect(text).toMatch(/^flatpeak_upstream_circuit_state\{state="closed"\} 1$/m);
    expect(text).not.toMatch(/PickedByTheCaller|127\.0\.0\.1|devices\.1/);
  });

  it('is not ready while stopping', async () => {
    let stopping = false;
    h = await startHarness({ env: FAST, isStopping: () => stopping });
    expect(await ready(h)).toBe(200);
    stopping = true;
    expect(await ready(h)).toBe(503);
    expect(await status(h)).toMatchObject({ ready: false });
  });
});
