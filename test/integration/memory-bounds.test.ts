import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.ts';
import { hostileBody } from '../support/hostile-documents.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { APQ_CACHE_MB: '1' } });
});
afterAll(() => h.close());

interface Answer {
  status: number;
  text: string;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; originalError?: { message?: string } } }> };
}

async function post(body: string): Promise<Answer> {
  const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Answer['body'] };
}

it('keeps APQ registrations within APQ_CACHE_MB, forgetting the least recently registered', async () => {
  // 40 documents of 16 K two-byte characters: 1.3 MB, far fewer than the 1,000 entries allowed.
  const limits = { maxTokens: 5_000, bodyBytes: 128 * 1024, apqDocumentLength: 16 * 1024 };
  const registrations = Array.from({ length: 40 }, (_, i) => JSON.parse(hostileBody('apq', i, limits)) as { extensions: unknown });
  for (const registration of registrations) {
    expect((await post(JSON.stringify(registration))).body).toEqual({ data: { __typename: 'Query' } });
  }
  const byHashAlone = (registration: { extensions: unknown }) => post(JSON.stringify({ extensions: registration.extensions }));
  expect((await byHashAlone(registrations.at(-1)!)).body).toEqual({ data: { __typename: 'Query' } });
  expect((await byHashAlone(registrations[0]!)).body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
});
