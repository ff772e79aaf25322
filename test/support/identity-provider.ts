import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://id.example.test/';
export const AUDIENCE = 'flatpeak-graph';

type Algorithm = 'RS256' | 'ES256' | 'EdDSA';

interface SigningKey {
  readonly kid: string;
  readonly alg: Algorithm;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export interface TokenOptions {
  /** Claims beyond iss, aud, iat, exp (which can be overridden here too). */
  readonly claims?: JWTPayload & Record<string, unknown>;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly alg?: Algorithm;
  /** Sign with a key the identity provider does not publish. */
  readonly unpublished?: boolean;
}

export interface IdentityProvider {
  readonly jwksUrl: URL;
  /** How many times the key set was fetched. */
  readonly jwksFetches: number;
  /** A token signed by a published key (or as `options` say). */
  token(options?: TokenOptions): Promise<string>;
  /** Publishes a new key of `alg`; the next tokens of that algorithm are signed with it. */
  rotate(alg?: Algorithm): Promise<string>;
  /** The published RSA public key in PEM-like bytes, for the HS256-with-public-key attack. */
  readonly publicKeyBytes: Uint8Array;
  close(): Promise<void>;
}

async function makeKey(alg: Algorithm, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/**
 * The company's identity provider, as far as the facade sees it: a JWKS endpoint on
 * loopback with keys made by jose at test start, and tokens signed with them.
 */
export async function startIdentityProvider(): Promise<IdentityProvider> {
  const published: SigningKey[] = [await makeKey('RS256', 'rsa-1'), await makeKey('ES256', 'ec-1'), await makeKey('EdDSA', 'ed-1')];
  const unpublished = await makeKey('RS256', 'rsa-1'); // same kid as a real key: only the signature tells
  let jwksFetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    jwksFetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const rsa = published[0]!.jwk;

  return {
    jwksUrl: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    get jwksFetches() {
      return jwksFetches;
    },
    publicKeyBytes: new TextEncoder().encode(JSON.stringify({ kty: rsa.kty, n: rsa.n, e: rsa.e })),
    async token({ claims = {}, expiresIn = 600, alg = 'RS256', unpublished: useUnpublished = false } = {}) {
      const key = useUnpublished ? unpublished : published.findLast((candidate) => candidate.alg === alg)!;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + expiresIn, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    async rotate(alg = 'RS256') {
      const kid = `${alg.toLowerCase()}-${published.length + 1}`;
      published.push(await makeKey(alg, kid));
      return kid;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A token with `alg: none` and no signature, which no verifier may accept. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** An HS256 token whose "secret" is the published public key: the classic algorithm-confusion attack. */
export async function hmacWithPublicKey(secret: Uint8Array, claims: Record<string, unknown>, kid = 'rsa-1'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(secret);
}
