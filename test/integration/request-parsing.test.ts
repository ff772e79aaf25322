import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const QUERY = `{ device(id: "${SEED_DEVICE_ID}") { modelName } }`;

async function send(init: RequestInit & { search?: Record<string, string> }) {
  const url = new URL(h.url);
  for (const [name, value] of Object.entries(init.search ?? {})) url.searchParams.set(name, value);
  const response = await fetch(url, {
    ...init,
    headers: { accept: 'application/graphql-response+json', ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
  };
}

describe('GET parameters', () => {
  it.each(['variables', 'extensions'])(
    '%s that are not JSON are a 400 BAD_REQUEST naming the parameter, like a bad POST body',
    async (name) => {
      const { status, body } = await send({ search: { query: '{ __typename }', [name]: '{bad' } });
      expect(status).toBe(400);
      expect(body.errors).toEqual([{ message: `The ${name} parameter is not valid JSON.`, extensions: { code: 'BAD_REQUEST' } }]);
    },
  );

  it('is a 400 also for clients that accept only application/json (where a GraphQL error would be a 200)', async () => {
    const { status, body } = await send({
      search: { query: '{ __typename }', variables: '{bad' },
      headers: { accept: 'application/json' },
    });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('a query with JSON variables still runs', async () => {
    const { status, body } = await send({
      search: { query: 'query ($id: ID!) { device(id: $id) { modelName } }', variables: JSON.stringify({ id: SEED_DEVICE_ID }) },
    });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { device: { modelName: 'Pico Ultimate' } } });
  });
});

describe('POST bodies', () => {
  it('a body that is not JSON gets a fixed message that does not quote it back', async () => {
    const { status, text, body } = await send({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ __typename }", "secret-ish": tok_123',
    });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }]);
    expect(text).not.toContain('tok_123');
    expect(text).not.toContain('originalError');
  });

  it('a body that is not JSON is a 400 also for clients that accept only application/json', async () => {
    const { status } = await send({
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{bad',
    });
    expect(status).toBe(400);
  });

  it.each(['gzip', 'br', 'deflate', 'x-unknown'])(
    'a body with Content-Encoding %s is refused with 415 (Yoga would read it as if it were not encoded)',
    async (coding) => {
      const { status, body } = await send({
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
        body: JSON.stringify({ query: QUERY }),
      });
      expect(status).toBe(415);
      expect(body.data).toBeUndefined();
    },
  );

  it('application/json with a charset is accepted', async () => {
    const { status, body } = await send({
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { device: { modelName: 'Pico Ultimate' } } });
  });
});

// The content types a browser sends cross-site without a CORS preflight, and the others
// Yoga would parse: none runs an operation.
describe('cross-site simple requests', () => {
  const form = new URLSearchParams({ query: QUERY });
  const multipart = new FormData();
  multipart.set('operations', JSON.stringify({ query: QUERY }));
  multipart.set('map', '{}');

  it.each([
    ['application/x-www-form-urlencoded', { body: form }],
    ['multipart/form-data', { body: multipart }],
    ['text/plain', { headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ query: QUERY }) }],
    [
      'text/plain with a JSON parameter',
      { headers: { 'content-type': 'text/plain; application/json' }, body: JSON.stringify({ query: QUERY }) },
    ],
    ['application/graphql', { headers: { 'content-type': 'application/graphql' }, body: QUERY }],
    ['no content type', { body: new Blob([JSON.stringify({ query: QUERY })]) }],
  ])('a POST of %s is refused with 415 and runs nothing', async (_, init) => {
    h.standin.resetLog();
    const { status, body } = await send({ method: 'POST', ...init });
    expect(status).toBe(415);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(h.standin.count('/devices/')).toBe(0);
  });

  it('a GET query still runs, as GraphQL over HTTP has it', async () => {
    const { status, body } = await send({ search: { query: QUERY } });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { device: { modelName: 'Pico Ultimate' } } });
  });

  it('a GET never runs a mutation', async () => {
    const { status } = await send({ search: { query: 'mutation { __typename }' } });
    expect(status).toBe(405);
  });
});
