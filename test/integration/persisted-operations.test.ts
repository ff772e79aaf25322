import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceListDocument } from '../../examples/__generated__/graphql.ts';
import { loadConfig } from '../../src/config.ts';
import { sha256Hex } from '../../src/persisted/manifest.ts';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type GraphQLResponse, type Harness, startHarness } from '../support/harness.ts';
import { subscribeSse } from '../support/sse.ts';
import { LIMITS } from '../../src/limits.ts';

/** The wire protocol, without a client library: what each mode accepts and answers. */

const manifest = loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com' }).persistedOperations.manifest;
const listHash = (DeviceListDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
const persisted = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

async function post(
  h: Harness,
  body: Record<string, unknown>,
): Promise<{ status: number; body: GraphQLResponse<Record<string, unknown>> }> {
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}

const codes = (body: GraphQLResponse<unknown>) => (body.errors ?? []).map((error) => error.extensions?.code);

describe('PERSISTED_OPERATIONS=allow', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('runs a manifest operation by hash, also as a GET (cacheable by a CDN)', async () => {
    const url = new URL(h.url);
    url.searchParams.set('variables', JSON.stringify({ ids: [SEED_DEVICE_ID] }));
    url.searchParams.set('extensions', JSON.stringify(persisted(listHash)));
    const response = await fetch(url, { headers: { accept: 'application/graphql-response+json' } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as GraphQLResponse<unknown>;
    expect(body).toEqual({
      data: {
        __typename: 'Query',
        devices: [
          {
            __typename: 'Device',
            id: SEED_DEVICE_ID,
            lastSeen: '2022-03-22T11:12:21.000Z',
            manufacturer: 'Nova Systems',
            modelName: 'Pico Ultimate',
          },
        ],
      },
    });
  });

  it('still runs any full document (GraphiQL, the router)', async () => {
    const { status, body } = await post(h, { query: `{ device(id: "${SEED_DEVICE_ID}") { modelName } }` });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { device: { modelName: 'Pico Ultimate' } } });
  });

  it('answers an unknown hash with Apollo’s PersistedQueryNotFound, so the client sends the document', async () => {
    const { status, body } = await post(h, { extensions: persisted(sha256Hex('query Unknown { __typename }')) });
    expect(status).toBe(200);
    expect(body.errors).toEqual([{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }]);
  });

  it('registers a document under its hash, which then runs alone', async () => {
    const query = 'query Registered { device(id: "dev_63a6087272941ef077a8fd3e") { referenceId } }';
    const registration = await post(h, { query, extensions: persisted(sha256Hex(query)) });
    expect(registration.body).toEqual({ data: { device: { referenceId: 'DEV1234567890' } } });
    const { body } = await post(h, { extensions: persisted(sha256Hex(query)) });
    expect(body).toEqual(registration.body);
  });

  it('runs but does not register a document longer than the APQ limit', async () => {
    const query = `query Padded { __typename } # ${'x'.repeat(LIMITS.apqDocumentLength.value)}`;
    const registration = await post(h, { query, extensions: persisted(sha256Hex(query)) });
    expect(registration.body).toEqual({ data: { __typename: 'Query' } });
    const later = await post(h, { extensions: persisted(sha256Hex(query)) });
    expect(codes(later.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('refuses a request body over the size limit before parsing it', async () => {
    const query = `{ __typename } # ${'x'.repeat(LIMITS.requestBodyBytes.value)}`;
    const { status } = await post(h, { query });
    expect(status).toBe(413);
  });

  it('runs a document sent with a wrong hash but does not register it under that hash', async () => {
    const claimed = sha256Hex('query Innocent { __typename }');
    const { body } = await post(h, {
      query: '{ device(id: "dev_63a6087272941ef077a8fd3e") { accountId } }',
      extensions: persisted(claimed),
    });
    expect(body.data).toEqual({ device: { accountId: 'acc_661677911f2197045e6cf1b1' } });
    const later = await post(h, { extensions: persisted(claimed) });
    expect(codes(later.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('does not register a document that fails validation', async () => {
    const query = '{ device(id: "dev_63a6087272941ef077a8fd3e") { noSuchField } }';
    const registration = await post(h, { query, extensions: persisted(sha256Hex(query)) });
    expect(registration.status).toBe(400);
    expect(codes(registration.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const later = await post(h, { extensions: persisted(sha256Hex(query)) });
    expect(codes(later.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('answers a request with neither document nor hash as Yoga does', async () => {
    const { status, body } = await post(h, { variables: {} });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST' } }]);
  });
});

describe('PERSISTED_OPERATIONS=require', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { PERSISTED_OPERATIONS: 'require' } });
  });
  afterAll(() => h.close());

  it('runs every operation of the manifest by hash', async () => {
    const variables = { id: SEED_DEVICE_ID, ids: [SEED_DEVICE_ID], input: { referenceId: 'DEV1234567890', modelName: 'Pico Ultimate' } };
    for (const [hash, document] of manifest) {
      if (/\bsubscription \w/.test(document)) {
        // A subscription by hash, over SSE: its first event is the device now.
        const stream = await subscribeSse(h.url, '', variables, {}, { persistedQuery: { version: 1, sha256Hash: hash } });
        expect(await stream.next()).toMatchObject({ data: { deviceUpdated: { id: SEED_DEVICE_ID } } });
        stream.close();
        continue;
      }
      const { status, body } = await post(h, { variables, extensions: persisted(hash) });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    }
    expect(manifest.size).toBe(6);
  });

  it.each([
    ['a document', { query: `{ device(id: "${SEED_DEVICE_ID}") { id } }` }, 'PERSISTED_QUERY_ONLY'],
    ['the manifest’s own text', { query: manifest.get(listHash), variables: { ids: [SEED_DEVICE_ID] } }, 'PERSISTED_QUERY_ONLY'],
    [
      'a document with its hash (APQ registration)',
      { query: '{ __typename }', extensions: persisted(sha256Hex('{ __typename }')) },
      'PERSISTED_QUERY_ONLY',
    ],
    ['nothing', {}, 'PERSISTED_QUERY_ONLY'],
    ['an unknown hash', { extensions: persisted(sha256Hex('query Unknown { __typename }')) }, 'PERSISTED_QUERY_NOT_IN_LIST'],
  ])('refuses %s with HTTP 400', async (_name, request, code) => {
    h.standin.resetLog();
    const { status, body } = await post(h, request);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(codes(body)).toEqual([code]);
    expect(h.standin.count('/devices/')).toBe(0);
  });
});

describe('PERSISTED_OPERATIONS=off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { PERSISTED_OPERATIONS: 'off' } });
  });
  afterAll(() => h.close());

  it('runs documents, and tells an APQ client that hashes are not supported', async () => {
    const document = await post(h, { query: print(DeviceListDocument), variables: { ids: [SEED_DEVICE_ID] } });
    expect(document.body.errors).toBeUndefined();
    const { body } = await post(h, { variables: { ids: [SEED_DEVICE_ID] }, extensions: persisted(listHash) });
    expect(body.errors).toEqual([{ message: 'PersistedQueryNotSupported', extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } }]);
  });
});
