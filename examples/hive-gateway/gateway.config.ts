/**
 * Hive Gateway over the company supergraph, as the tests run it
 * (test/integration/hive-gateway.test.ts):
 *
 *   AUTH_JWKS_URL=… AUTH_ISSUER=… AUTH_AUDIENCE=… \
 *     npx hive-gateway supergraph supergraph.graphql -c examples/hive-gateway/gateway.config.ts
 *
 * with supergraph.graphql composed by @theguild/federation-composition. The three AUTH_*
 * variables are the subgraph's own (the same identity provider verifies the same token twice).
 */
import { createRemoteJwksSigningKeyProvider, defineConfig, extractFromHeader } from '@graphql-hive/gateway';

/** The devices subgraph's name in the supergraph: the only one that gets the caller's token. */
const DEVICES_SUBGRAPH = 'devices';

/**
 * The router's budget for demand control, in the units of the subgraph's @cost/@listSize
 * hints: the subgraph's own cost limit (LIMITS.cost in src/limits.ts).
 */
export const MAX_COST = 5_000;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

interface TokenPayload {
  readonly scope?: unknown;
  readonly scp?: unknown;
}

export const gatewayConfig = defineConfig({
  // Verifies the caller's JWT: a bad token is refused here; none at all is an anonymous
  // caller, whom genericAuth refuses only the fields that need one.
  jwt: {
    signingKeyProviders: [createRemoteJwksSigningKeyProvider({ jwksUri: required('AUTH_JWKS_URL') })],
    tokenLookupLocations: [extractFromHeader({ name: 'authorization', prefix: 'Bearer' })],
    tokenVerification: { issuer: required('AUTH_ISSUER'), audience: required('AUTH_AUDIENCE'), algorithms: ['RS256', 'ES256'] },
    reject: { missingToken: false, invalidToken: true },
  },
  // Enforces the supergraph's @authenticated and @requiresScopes before planning: a field
  // the caller may not have is refused without a call to any subgraph. Scopes are the
  // token's `scope` (space-separated) or `scp` claim, as the subgraph reads them.
  genericAuth: {
    mode: 'protect-granular',
    resolveUserFn: (context) => (context as { jwt?: { payload?: TokenPayload } }).jwt?.payload ?? null,
    // Called for anonymous callers too (user null): they have no scopes.
    extractScopes: (user: TokenPayload | null) =>
      [user?.scope, user?.scp].flatMap((claim) =>
        typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim.filter((item) => typeof item === 'string') : [],
      ),
    rejectUnauthenticated: false,
  },
  // The caller's token and request id go to the devices subgraph only (it verifies the
  // token again and reads as that caller); no other team's service sees the token.
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, subgraphName }) =>
      subgraphName === DEVICES_SUBGRAPH
        ? { authorization: request.headers.get('authorization'), 'x-request-id': request.headers.get('x-request-id') }
        : { 'x-request-id': request.headers.get('x-request-id') },
  },
  // Estimates each subgraph operation from @cost/@listSize and refuses, before sending it,
  // one over the budget (COST_ESTIMATED_TOO_EXPENSIVE).
  demandControl: { maxCost: MAX_COST, includeExtensionMetadata: false },
});
