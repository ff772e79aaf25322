import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { hostileBody } from '../support/hostile-documents.ts';
import { LIMITS } from '../../src/limits.ts';

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
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Answer['body'] };
}

it('stops validating a document after LIMITS.validationErrors.value errors', async () => {
  const { status, body } = await post(
    hostileBody('unknown-fields', 1, { maxTokens: 5_000, bodyBytes: 128 * 1024, apqDocumentLength: 16 * 1024 }),
  );
  expect(status).toBe(400);
  expect(body.errors).toHaveLength(LIMITS.validationErrors.value + 1);
  expect(body.errors!.slice(0, -1).every((error) => /^Cannot query field "missing1_\d+" on type "Device"\.$/.test(error.message))).toBe(
    true,
  );
  expect(body.errors!.at(-1)!.message).toBe('Too many validation errors, error limit reached. Validation aborted.');
  expect(body.errors!.every((error) => error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')).toBe(true);
});

it('quotes no more than the start of a long name in an error message', async () => {
  const name = `n${'x'.repeat(50_000)}`;
  const { status, text, body } = await post(JSON.stringify({ query: `{ device(id: "${SEED_DEVICE_ID}") { ${name} } }` }));
  expect(status).toBe(400);
  expect(text.length).toBeLessThan(1_000);
  expect(body.errors![0]!.message).toMatch(/^Cannot query field "nx+…" on type "Device"\.$/);
});

it('does not echo a body that is not JSON', async () => {
  const { status, text, body } = await post(
    hostileBody('malformed-json', 1, { maxTokens: 5_000, bodyBytes: 100 * 1024, apqDocumentLength: 16 * 1024 }),
  );
  expect(status).toBe(400);
  expect(text.length).toBeLessThan(2 * LIMITS.messageLength.value);
  expect(body.errors![0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
  expect(body.errors![0]!.extensions).not.toHaveProperty('originalError');
});

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
