import { ApolloClient, ApolloLink, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries';
import type { DocumentNode } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeviceDetailDocument, DeviceListDocument, DevicePropertiesCardFragmentDoc } from '../../examples/__generated__/graphql.ts';
import { useFragment } from '../../examples/__generated__/index.ts';
import { sha256Hex } from '../../src/persisted/manifest.ts';
import { SEED_DEVICE_ID, sampleDevices } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';

/**
 * Apollo Client 4, as the mobile and web teams configure it, against the running service
 * over HTTP. Every request body the client sends is recorded, to show what went over the wire.
 */
interface SentBody {
  operationName?: string;
  variables?: Record<string, unknown>;
  query?: string;
  extensions?: { persistedQuery?: { version: number; sha256Hash: string } };
}

function recordingFetch(sent: SentBody[]): typeof fetch {
  return async (input, init) => {
    if (typeof init?.body === 'string') sent.push(JSON.parse(init.body) as SentBody);
    return fetch(input, init);
  };
}

/** The hash GraphQL Code Generator put in the typed document: the manifest's key for it. */
const manifestHash = (document: DocumentNode): string => {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string') throw new Error('document has no persisted-document hash (run npm run codegen)');
  return hash;
};

function createClient(url: URL, sent: SentBody[], persisted?: 'manifest' | 'automatic'): ApolloClient {
  const http = new HttpLink({ uri: url.href, fetch: recordingFetch(sent) });
  const link =
    persisted === 'manifest'
      ? ApolloLink.from([createPersistedQueryLink({ generateHash: manifestHash }), http])
      : persisted === 'automatic'
        ? ApolloLink.from([createPersistedQueryLink({ sha256: sha256Hex }), http])
        : http;
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

const other = sampleDevices()[7]!;

describe('Apollo Client, PERSISTED_OPERATIONS=allow (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.standin.resetLog());

  it('runs a typed query (generated TypedDocumentNode) and reads the properties fragment', async () => {
    const sent: SentBody[] = [];
    const client = createClient(h.url, sent);
    const { data, error } = await client.query({ query: DeviceDetailDocument, variables: { id: SEED_DEVICE_ID } });
    expect(error).toBeUndefined();
    // Typed: these assignments only compile because the result type comes from the document.
    const modelName: string = data!.device!.modelName;
    const card = useFragment(DevicePropertiesCardFragmentDoc, data!.device!.properties);
    const capacity: number | null | undefined = card?.capacityKwh;
    expect(modelName).toBe('Pico Ultimate');
    expect(capacity).toBe(123);
    expect(data!.device!.locations).toEqual([{ __typename: 'Location', id: 'loc_641b90b758fb8e6293716e40' }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toContain('query DeviceDetail');
  });

  it('runs a query by its persisted hash alone, without sending the document', async () => {
    const sent: SentBody[] = [];
    const client = createClient(h.url, sent, 'manifest');
    const { data, error } = await client.query({ query: DeviceListDocument, variables: { ids: [SEED_DEVICE_ID, other.id] } });
    expect(error).toBeUndefined();
    expect(data?.devices.map((device) => device?.modelName)).toEqual(['Pico Ultimate', other.model_name]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toHaveProperty('query');
    expect(sent[0]).toMatchObject({
      operationName: 'DeviceList',
      variables: { ids: [SEED_DEVICE_ID, other.id] },
      extensions: { persistedQuery: { version: 1, sha256Hash: manifestHash(DeviceListDocument) } },
    });
    expect(h.standin.count('/devices/')).toBe(2);
  });

  it('registers an operation that is not in the manifest through automatic persisted queries', async () => {
    const query: TypedDocumentNode<{ device: { id: string; referenceId: string } | null }, { id: string }> = gql`
      query SeedReference($id: ID!) {
        device(id: $id) {
          id
          referenceId
        }
      }
    `;
    const first: SentBody[] = [];
    const result = await createClient(h.url, first, 'automatic').query({ query, variables: { id: SEED_DEVICE_ID } });
    expect(result.data?.device?.referenceId).toBe('DEV1234567890');
    // Hash alone, PERSISTED_QUERY_NOT_FOUND, then the document with its hash.
    expect(first.map((body) => ({ query: body.query !== undefined, hash: body.extensions?.persistedQuery?.sha256Hash }))).toEqual([
      { query: false, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { query: true, hash: first[0]!.extensions!.persistedQuery!.sha256Hash },
    ]);

    // Another client (say, another phone) now needs only the hash.
    const second: SentBody[] = [];
    const again = await createClient(h.url, second, 'automatic').query({ query, variables: { id: SEED_DEVICE_ID } });
    expect(again.data).toEqual(result.data);
    expect(second).toHaveLength(1);
    expect(second[0]!.query).toBeUndefined();
  });
});

describe('Apollo Client, PERSISTED_OPERATIONS=require', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { PERSISTED_OPERATIONS: 'require' } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.standin.resetLog());

  it('runs the manifest’s operations by hash', async () => {
    const sent: SentBody[] = [];
    const { data, error } = await createClient(h.url, sent, 'manifest').query({
      query: DeviceDetailDocument,
      variables: { id: SEED_DEVICE_ID },
    });
    expect(error).toBeUndefined();
    expect(data?.device?.manufacturer).toBe('Nova Systems');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toBeUndefined();
  });

  it('sees PERSISTED_QUERY_NOT_IN_LIST for a hash the manifest does not have, and does not resend the document', async () => {
    const sent: SentBody[] = [];
    const unknown: TypedDocumentNode<{ device: { id: string } | null }, { id: string }> = gql`
      query NotShipped($id: ID!) {
        device(id: $id) {
          id
        }
      }
    `;
    const error = await createClient(h.url, sent, 'automatic')
      .query({ query: unknown, variables: { id: SEED_DEVICE_ID } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    const [only, ...rest] = (error as CombinedGraphQLErrors).errors;
    expect(rest).toEqual([]);
    expect(only?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(only?.message).toMatch(/only the operations in its persisted-operations manifest/);
    expect(sent).toHaveLength(1);
    expect(h.standin.count()).toBe(0);
  });

  it('sees PERSISTED_QUERY_ONLY when it sends a document', async () => {
    const error = await createClient(h.url, [])
      .query({ query: DeviceDetailDocument, variables: { id: SEED_DEVICE_ID } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors.map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);
    expect(h.standin.count()).toBe(0);
  });
});
