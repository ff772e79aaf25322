import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJwtVerifier } from '../../src/callers/jwt.ts';
import type { DependencyFailure } from '../../src/telemetry/dependency-failures.ts';
import { AUDIENCE, type IdentityProvider, ISSUER, startIdentityProvider } from '../support/identity-provider.ts';

/** A key set URL that answers 503, counting its fetches. */
let fetches = 0;
const failing = createServer((_req, res) => {
  fetches += 1;
  res.writeHead(503).end();
});
let idp: IdentityProvider;
beforeAll(async () => {
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  idp = await startIdentityProvider();
});
afterAll(async () => {
  failing.close();
  await idp.close();
});

it('counts a failed fetch of the key set once, however many verifications waited on it', async () => {
  const reported: DependencyFailure[] = [];
  const verify = createJwtVerifier({
    jwksUrl: new URL(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/jwks.json`),
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256'],
    jwksCooldownMs: 30_000,
    clockToleranceS: 30,
    referenceClaim: 'sub',
    locationsClaim: undefined,
    onKeySetFailure: (failure) => reported.push(failure),
  });
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => idp.token({ claims: { sub: `user-${i}` } })));
  // Started in the same turn: all ten wait on jose's one fetch.
  const outcomes = await Promise.allSettled(tokens.map((token) => verify(token)));
  for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'UPSTREAM_UNAVAILABLE' } });
  expect(fetches).toBe(1);
  expect(reported).toHaveLength(1);
  expect(reported[0]).toMatchObject({
    dependency: 'jwks',
    reason: 'bad_response',
    details: { jwks: expect.stringMatching(/\/jwks\.json$/) as unknown },
  });

  // The next verification fetches again, and that failure counts again.
  await expect(verify(tokens[0]!)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  expect(fetches).toBe(2);
  expect(reported).toHaveLength(2);
});
