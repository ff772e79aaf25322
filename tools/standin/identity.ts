import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK, type JWK, SignJWT } from 'jose';

/**
 * A development identity provider for trying CALLER_AUTH=jwt on the stand-in: one Ed25519
 * key per clone, made on first use and kept in a git-ignored file (never in the image:
 * .dockerignore admits only what the build copies), so that `npm run token` and the
 * launcher's JWKS agree across processes. Nothing here is used by the service itself.
 */

export const DEV_ISSUER = 'urn:flatpeak-graph:development-identity';
export const DEV_AUDIENCE = 'flatpeak-graph';
/** EdDSA is one of AUTH_ALGORITHMS' defaults. */
const ALGORITHM = 'EdDSA';

/** Where the key is kept: in the clone, ignored by git. */
export const IDENTITY_FILE = fileURLToPath(new URL('../../.dev/identity.json', import.meta.url));

export interface DevIdentity {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
}

/**
 * The clone's key, made now if there is none. Several processes may start at once (the
 * docs test starts one service per file): the first to link its file in place wins, and
 * the others read that one, so that every process signs and verifies with the same key.
 */
export function loadIdentity(file = IDENTITY_FILE): DevIdentity {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevIdentity;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const kid = `dev-${randomBytes(6).toString('hex')}`;
  const identity: DevIdentity = {
    kid,
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: ALGORITHM, use: 'sig' },
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: ALGORITHM },
  };
  mkdirSync(dirname(file), { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, JSON.stringify(identity, null, 2), { mode: 0o600 });
  try {
    linkSync(draft, file); // fails if another process got there first
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as DevIdentity;
}

export interface TokenRequest {
  readonly sub: string;
  /** Space-separated scopes, as the `scope` claim carries them (e.g. `devices:write`). */
  readonly scope?: string | undefined;
  readonly ttlSeconds?: number | undefined;
  /** More claims (e.g. a locations claim named by AUTH_LOCATIONS_CLAIM). */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

/** A JWT for the service running on the stand-in with CALLER_AUTH=jwt. */
export async function signToken(identity: DevIdentity, request: TokenRequest): Promise<string> {
  const key = await importJWK(identity.privateJwk, ALGORITHM);
  return new SignJWT({ ...request.claims, ...(request.scope ? { scope: request.scope } : {}) })
    .setProtectedHeader({ alg: ALGORITHM, kid: identity.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(request.sub)
    .setIssuedAt()
    .setExpirationTime(`${request.ttlSeconds ?? 3600}s`)
    .sign(key);
}

export interface JwksServer {
  readonly url: URL;
  close(): Promise<void>;
}

/** The identity's public key set on a loopback port, at the path identity providers use. */
export async function serveJwks(identity: DevIdentity): Promise<JwksServer> {
  const body = JSON.stringify({ keys: [identity.publicJwk] });
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
