import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

/**
 * A result that no media type of the Accept header can carry is refused with 406 and a
 * GraphQL error that says which media types to ask for, through Yoga's handler and
 * through the fast lane alike (test/integration/fast-lane.test.ts compares the two
 * answers byte for byte; here, what the answer says).
 */
let lane: Harness;
let yoga: Harness;
beforeAll(async () => {
  [lane, yoga] = await Promise.all([startHarness(), startHarness({ fastLane: false })]);
});
afterAll(async () => {
  await Promise.all([lane?.close(), yoga?.close()]);
});

const SUBSCRIPTION = `subscription { deviceUpdated(id: "${SEED_DEVICE_ID}") { id lastSeen } }`;
const QUERY = `{ device(id: "${SEED_DEVICE_ID}") { id } }`;
const DEFERRED = `{ device(id: "${SEED_DEVICE_ID}") { id ... @defer { modelName } } }`;

async function post(h: Harness, query: string, accept: string) {
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), accept: response.headers.get('accept'), text };
}

async function metric(h: Harness, name: string): Promise<number> {
  const text = await (await fetch(h.metricsUrl)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe.each([
  ['Yoga’s handler', () => yoga],
  ['the fast lane', () => lane],
])('406 Not Acceptable, through %s', (_name, facade) => {
  it('a subscription asked for as application/json: names text/event-stream and multipart/mixed, and opens no stream', async () => {
    const h = facade();
    const answer = await post(h, SUBSCRIPTION, 'application/json');
    expect(answer.status).toBe(406);
    expect(answer.contentType).toBe('application/json; charset=utf-8');
    expect(answer.accept).toBe('text/event-stream, multipart/mixed');
    const body = JSON.parse(answer.text) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body).toEqual({
      errors: [
        {
          message: expect.stringContaining('Accept: text/event-stream') as unknown,
          extensions: { code: 'NOT_ACCEPTABLE', acceptableMediaTypes: ['text/event-stream', 'multipart/mixed'] },
        },
      ],
    });
    expect(body.errors[0]!.message).toContain('Accept: multipart/mixed');
    // The subscription that was never sent is not left watching the device.
    await vi.waitFor(async () => expect(await metric(h, 'flatpeak_subscriptions_open')).toBe(0), { timeout: 2_000, interval: 20 });
    expect(await metric(h, 'flatpeak_device_pollers')).toBe(0);
  });

  it('the same subscription asked for as text/event-stream is served (the error said so)', async () => {
    const h = facade();
    const controller = new AbortController();
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SUBSCRIPTION }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it('a query asked for as text/html: names the JSON media types', async () => {
    const answer = await post(facade(), QUERY, 'text/html');
    expect(answer.status).toBe(406);
    expect(JSON.parse(answer.text)).toMatchObject({
      errors: [{ extensions: { code: 'NOT_ACCEPTABLE', acceptableMediaTypes: ['application/graphql-response+json', 'application/json'] } }],
    });
  });

  it('@defer asked for as application/json: names the media types that take parts', async () => {
    const answer = await post(facade(), DEFERRED, 'application/json');
    expect(answer.status).toBe(406);
    expect(JSON.parse(answer.text)).toMatchObject({
      errors: [{ extensions: { code: 'NOT_ACCEPTABLE', acceptableMediaTypes: ['multipart/mixed', 'text/event-stream'] } }],
    });
  });
});
