import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

/**
 * Issue 21, finding 7: anonymous floods of 30 aliased `__schema` selections (~584 KB answers)
 * slowed every other caller, and introspection counted toward no limit. Bounded per
 * operation (LIMITS.schemaSelections) and per caller (INTROSPECTION_PER_MINUTE).
 */
const SCHEMA = '__schema { types { name kind fields { name type { name kind ofType { name kind } } } } }';
const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `s${i}: ${SCHEMA}`).join(' ')} }`;

async function post(h: Harness, query: string, headers: Record<string, string> = {}) {
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return {
    status: response.status,
    bytes: text.length,
    body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
  };
}
const codes = (body: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => body.errors?.map((error) => error.extensions?.code);

describe('introspection limits (CALLER_AUTH=jwt, no token)', () => {
  let idp: IdentityProvider;
  let h: Harness;
  let bob = '';

  beforeAll(async () => {
    idp = await startIdentityProvider();
    h = await startHarness({
      env: {
        CALLER_AUTH: 'jwt',
        AUTH_JWKS_URL: idp.jwksUrl.href,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        INTROSPECTION_PER_MINUTE: '6',
      },
    });
    bob = await idp.token({ claims: { sub: 'bob' } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('refuses an operation with more __schema/__type selections than allowed, aliases and fragments alike, before it runs', async () => {
    const attacks = [
      aliased(30),
      aliased(3),
      `{ a: __type(name: "Device") { name } b: __type(name: "Query") { name } c: __schema { queryType { name } } }`,
      `{ ...F ...F ...F } fragment F on Query { __schema { queryType { name } } }`,
      `{ ... on Query { a: __schema { queryType { name } } } ...G } fragment G on Query { b: __schema { queryType { name } } x: __type(name: "Device") { name } }`,
    ];
    for (const query of attacks) {
      const { status, body, bytes } = await post(h, query);
      expect(status, query.slice(0, 60)).toBe(400);
      expect(codes(body), query.slice(0, 60)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(body.errors![0]!.message).toMatch(
        /^Introspection limit: \d+ __schema\/__type selections in one operation, at most 2 allowed$/,
      );
      expect(bytes).toBeLessThan(1_000);
    }
  });

  it('lets an anonymous caller introspect INTROSPECTION_PER_MINUTE times, then answers RATE_LIMITED; other callers keep theirs', async () => {
    // The refused documents above never ran: they took nothing from the bucket.
    for (let i = 0; i < 6; i += 1) {
      const { status, body } = await post(h, `{ ${SCHEMA} }`);
      expect(status, `introspection ${i + 1}`).toBe(200);
      expect(body.errors).toBeUndefined();
    }
    const limited = await post(h, `{ __type(name: "Device") { name } }`);
    expect(codes(limited.body)).toEqual(['RATE_LIMITED']);
    expect(limited.body.data ?? null).toBeNull();
    expect(limited.body.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(0);
    // Not introspection: not counted.
    expect((await post(h, '{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
    // Bob has a bucket of his own.
    const bobs = await post(h, `{ __schema { queryType { name } } }`, { authorization: `Bearer ${bob}` });
    expect(bobs.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});
