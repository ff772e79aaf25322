import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FacadeError } from '../../src/errors.ts';
import { seedDevice } from '../../tools/standin/data.ts';
import { createFlatpeakClient, type FlatpeakClient } from '../../src/upstream/flatpeak.ts';

const ORIGIN = 'https://api.flatpeak.test';
let agent: MockAgent;
let client: FlatpeakClient;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = createFlatpeakClient({ baseUrl: new URL(`${ORIGIN}/v1/`), dispatcher: agent, maxBodyBytes: 64 * 1024 });
});
afterEach(async () => {
  await agent.close();
});

const deadline = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 60_000 });
const call = { token: 'tok', requestId: 'req-1', ...deadline() };

async function failure(promise: Promise<unknown>): Promise<FacadeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FacadeError);
  return error as FacadeError;
}

describe('getDevice', () => {
  it('sends the token and request id to the path under the base URL, and parses the device', async () => {
    agent
      .get(ORIGIN)
      .intercept({
        path: '/v1/devices/dev_63a6087272941ef077a8fd3e',
        method: 'GET',
        headers: { authorization: 'Bearer tok', 'x-request-id': 'req-1', accept: 'application/json' },
      })
      .reply(200, seedDevice);
    const device = await client.getDevice('dev_63a6087272941ef077a8fd3e', call);
    expect(device.model_name).toBe('Pico Ultimate');
    expect(device.time_created).toEqual(new Date('2022-01-24T14:15:22Z'));
    expect(device.properties?.install_date).toEqual(new Date('2022-03-22T11:12:21Z'));
  });

  it('encodes the id as one path segment', async () => {
    agent.get(ORIGIN).intercept({ path: '/v1/devices/a%2Fb%3Fc', method: 'GET' }).reply(404, { object: 'error', code: 'device_not_found' });
    expect((await failure(client.getDevice('a/b?c', call))).code).toBe('NOT_FOUND');
  });

  it.each([
    [401, undefined, 'UNAUTHENTICATED'],
    [403, undefined, 'FORBIDDEN'],
    [422, 'account_disabled', 'FORBIDDEN'],
    [422, 'something_else', 'UPSTREAM_REJECTED'],
    [429, undefined, 'RATE_LIMITED'],
    [500, undefined, 'UPSTREAM_UNAVAILABLE'],
    [502, undefined, 'UPSTREAM_UNAVAILABLE'],
  ])('maps HTTP %i (%s) to %s and keeps Flatpeak’s code', async (status, upstreamCode, code) => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/devices/dev_1', method: 'GET' })
      .reply(status, { object: 'error', type: 'invalid_request', code: upstreamCode, message: 'm' });
    const error = await failure(client.getDevice('dev_1', call));
    expect(error.code).toBe(code);
    expect(error.upstream).toEqual(upstreamCode ? { status, code: upstreamCode } : { status });
  });

  it.each([
    ['HTML', '<html>oops</html>'],
    ['JSON of another shape', JSON.stringify({ ...seedDevice, live_mode: 'yes' })],
    ['a device with a bad date', JSON.stringify({ ...seedDevice, time_created: 'yesterday' })],
    ['a list', '[]'],
  ])('refuses a 200 carrying %s as UPSTREAM_BAD_RESPONSE', async (_name, body) => {
    agent.get(ORIGIN).intercept({ path: '/v1/devices/dev_1', method: 'GET' }).reply(200, body);
    expect((await failure(client.getDevice('dev_1', call))).code).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it('refuses a body larger than the limit without buffering it all', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/devices/dev_1', method: 'GET' })
      .reply(200, 'x'.repeat(200 * 1024));
    const error = await failure(client.getDevice('dev_1', call));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/larger than/);
  });

  it('maps an error status by its status even when its page is over the limit', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/devices/dev_1', method: 'GET' })
      .reply(503, `<html>${'x'.repeat(200 * 1024)}</html>`);
    const error = await failure(client.getDevice('dev_1', call));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.upstream).toEqual({ status: 503 });
  });

  it('accepts a device with unknown fields and without optional ones', async () => {
    const { properties: _p, last_seen: _l, flex_enabled: _f, ...required } = seedDevice;
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/devices/dev_1', method: 'GET' })
      .reply(200, { ...required, brand_new_field: 1 });
    const device = await client.getDevice('dev_1', call);
    expect(device).not.toHaveProperty('brand_new_field');
    expect(device.flex_enabled).toBeUndefined();
  });

  it('reports a connection failure as UPSTREAM_UNAVAILABLE', async () => {
    agent.get(ORIGIN).intercept({ path: '/v1/devices/dev_1', method: 'GET' }).replyWithError(new Error('ECONNRESET'));
    expect((await failure(client.getDevice('dev_1', call))).code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('reports an aborted call as UPSTREAM_TIMEOUT', async () => {
    agent.get(ORIGIN).intercept({ path: '/v1/devices/dev_1', method: 'GET' }).reply(200, seedDevice).delay(5_000);
    const controller = new AbortController();
    const pending = client.getDevice('dev_1', { ...call, signal: controller.signal });
    controller.abort();
    expect((await failure(pending)).code).toBe('UPSTREAM_TIMEOUT');
  });
});

describe('login', () => {
  it('sends HTTP Basic credentials and reads the token', async () => {
    const basic = Buffer.from('acc_1:sk_2').toString('base64');
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/login', method: 'GET', headers: { authorization: `Basic ${basic}` } })
      .reply(200, { bearer_token: 'jwt', expires_in: 3600, live_mode: true });
    expect(await client.login('acc_1', 'sk_2', deadline())).toEqual({ bearer_token: 'jwt', expires_in: 3600, live_mode: true });
  });

  it('maps refused credentials to UNAUTHENTICATED', async () => {
    agent.get(ORIGIN).intercept({ path: '/v1/login', method: 'GET' }).reply(401, { object: 'error', code: 'invalid_credentials' });
    const error = await failure(client.login('acc_1', 'sk_bad', deadline()));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).not.toContain('sk_bad');
  });
});

describe('createDevice and updateDevice', () => {
  it('POSTs the body as JSON with the token and the idempotency key, and parses the device', async () => {
    let sent: unknown;
    agent
      .get(ORIGIN)
      .intercept({
        path: '/v1/devices',
        method: 'POST',
        headers: { authorization: 'Bearer tok', 'content-type': 'application/json', 'idempotency-key': 'key-1' },
        body: (body) => {
          sent = JSON.parse(body);
          return true;
        },
      })
      .reply(200, seedDevice);
    const device = await client.createDevice({ reference_id: 'R1', type: 'PV_SYSTEM' }, { ...call, idempotencyKey: 'key-1' });
    expect(sent).toEqual({ reference_id: 'R1', type: 'PV_SYSTEM' });
    expect(device.id).toBe(seedDevice.id);
  });

  it('PATCHes the device path, and maps a 400 with its code like any other status', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v1/devices/dev_1', method: 'PATCH' })
      .reply(400, { object: 'error', type: 'invalid_request', code: 'reference_id_missing', message: 'Reference ID is required' });
    const error = await failure(client.updateDevice('dev_1', { model_name: 'X' }, call));
    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(error.upstream).toEqual({ status: 400, code: 'reference_id_missing' });
  });
});
