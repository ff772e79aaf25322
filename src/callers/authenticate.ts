import { hash } from 'node:crypto';
import type { CallerSettings } from '../config.ts';
import type { ReportDependencyFailure } from '../telemetry/dependency-failures.ts';
import type { Caller } from './caller.ts';
import { createJwtVerifier, unauthenticated } from './jwt.ts';

/** Establishes who sent `request`; throws a 401 FacadeError for a token that is present but bad. */
export type Authenticate = (request: Request, clientAddress: string | undefined) => Promise<Caller>;

const BEARER = /^Bearer +(\S+) *$/i;

export function createAuthenticator(
  settings: CallerSettings,
  { onDependencyFailure }: { onDependencyFailure?: ReportDependencyFailure } = {},
): Authenticate {
  const byAddress = (clientAddress: string | undefined) => `ip:${clientAddress ?? 'unknown'}`;
  switch (settings.mode) {
    case 'none':
      return async (_request, clientAddress) => ({ kind: 'trusted', key: byAddress(clientAddress) });
    case 'pass-through':
      return async (request, clientAddress) => {
        const token = BEARER.exec(request.headers.get('authorization') ?? '')?.[1];
        // Keyed by the token's hash: the token itself is kept out of memory dumps and logs.
        return token
          ? { kind: 'flatpeak', key: `token:${hash('sha256', token, 'base64url').slice(0, 22)}`, token }
          : { kind: 'anonymous', key: byAddress(clientAddress) };
      };
    case 'jwt': {
      const verify = createJwtVerifier({
        ...settings.jwt,
        referenceClaim: settings.referenceClaim,
        locationsClaim: settings.locationsClaim,
        onKeySetFailure: onDependencyFailure,
      });
      return async (request, clientAddress) => {
        const header = request.headers.get('authorization');
        if (header === null || header.trim() === '') return { kind: 'anonymous', key: byAddress(clientAddress) };
        const token = BEARER.exec(header)?.[1];
        if (!token) throw unauthenticated('Send your token as Authorization: Bearer <JWT>');
        return verify(token);
      };
    }
  }
}
