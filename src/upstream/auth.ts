import { FacadeError } from '../errors.ts';
import type { FailureReason, ReportDependencyFailure } from '../telemetry/dependency-failures.ts';
import { raceAbort } from './resilience.ts';
import type { Login } from './types.ts';
import type { GiveUpSignal } from '../request/lifetime.ts';
import { promiseOf } from '../promise-of.ts';

export interface TokenSource {
  /** A bearer token that Flatpeak should accept now. */
  token(): Promise<string>;
  /** The same, when one is at hand without waiting for a login (the usual case); else undefined. */
  ready(): string | undefined;
  /** Forget `token` because Flatpeak refused it; the next `token()` logs in again. */
  invalidate(token: string): void;
}

export interface ServiceTokenOptions {
  readonly login: () => Promise<Login>;
  readonly now?: () => number;
  /** After a failed login, callers get that failure for this long instead of a new login. */
  readonly failureHoldMs?: number;
  /** Told of each failed login (logged, throttled, and counted). */
  readonly onLoginFailure?: ReportDependencyFailure;
}

/**
 * The service-credentials token: one login shared by every request, renewed ahead of
 * `expires_in` (Flatpeak asks for that) while the old token keeps serving, and never more
 * than one login in flight however many requests arrive together.
 */
export function createServiceTokenSource({
  login,
  now = Date.now,
  failureHoldMs = 1_000,
  onLoginFailure,
}: ServiceTokenOptions): TokenSource {
  let current: { value: string; renewAt: number; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  // Rejected keys or a Flatpeak outage must not turn every incoming request into a login.
  let failure: { error: unknown; until: number } | undefined;

  function renew(): Promise<string> {
    if (failure && now() < failure.until) return Promise.reject(failure.error);
    pending ??= (async () => {
      const startedAt = now();
      const { bearer_token: value, expires_in: expiresIn } = await login();
      const lifetimeMs = expiresIn * 1000;
      // Renew at 90 % of the lifetime (at most 5 minutes early); stop using it 5 s before
      // the end so that a request in flight does not arrive with an expired token.
      current = {
        value,
        renewAt: startedAt + lifetimeMs - Math.min(lifetimeMs / 10, 300_000),
        expiresAt: startedAt + lifetimeMs - Math.min(lifetimeMs / 20, 5_000),
      };
      failure = undefined;
      return value;
    })()
      .catch((error: unknown) => {
        failure = { error, until: now() + failureHoldMs };
        const upstream = error instanceof FacadeError ? error.upstream : undefined;
        const details = {
          ...(upstream?.status === undefined ? {} : { status: upstream.status }),
          ...(upstream?.code === undefined ? {} : { flatpeakCode: upstream.code }),
        };
        onLoginFailure?.({ dependency: 'flatpeak_login', reason: loginFailureReason(error), error, details });
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  function ready(): string | undefined {
    const t = now();
    if (current && t < current.renewAt) return current.value;
    if (current && t < current.expiresAt) {
      // Still valid: renew in the background and answer at once. A failed renewal is
      // retried by the next caller; the caller that ends up without a token sees the error.
      renew().catch(() => {});
      return current.value;
    }
    return undefined;
  }

  return {
    ready,
    async token() {
      return ready() ?? renew();
    },
    invalidate(token) {
      if (current?.value === token) current = undefined;
    },
  };
}

/** Why a login failed, from the client's error (src/upstream/flatpeak.ts) or the policy's (resilience.ts). */
export function loginFailureReason(error: unknown): FailureReason {
  if (!(error instanceof FacadeError)) return 'error';
  switch (error.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return 'refused';
    case 'UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'UPSTREAM_UNAVAILABLE':
      // With a status Flatpeak answered 5xx; without, it could not be reached (or the circuit is open).
      return error.upstream?.status === undefined ? 'unreachable' : 'server_error';
    case 'RATE_LIMITED':
    case 'UPSTREAM_OVERLOADED':
      return 'rate_limited';
    default:
      return 'bad_response';
  }
}

/** Runs an upstream call with a bearer token, however this deployment obtains one. */
export type Authorize = <T>(call: (token: string) => Promise<T>, signal: GiveUpSignal) => Promise<T>;

const loginTooSlow = () => new FacadeError('UPSTREAM_TIMEOUT', "Flatpeak's login did not finish before the request's deadline");

/**
 * Service credentials: the shared token; if Flatpeak refuses it (revoked, rotated, clock
 * skew) the token is dropped and the call is made once more with a fresh login.
 *
 * Not async functions: this runs for every device call, and with a token at hand the
 * call's own promise, followed once for a refusal, is all it needs.
 */
export function authorizeWithService(source: TokenSource): Authorize {
  // The login is shared, so it runs on its own deadline; each caller waits on its own
  // (a token at hand needs no wait, nor a race against the caller's signal).
  const login = (signal: GiveUpSignal) => raceAbort(source.token(), signal, loginTooSlow);
  const refusedAgain = async <T>(call: (token: string) => Promise<T>, signal: GiveUpSignal, refused: string): Promise<T> => {
    source.invalidate(refused);
    try {
      return await call(await login(signal));
    } catch (error) {
      throw serviceRefused(error);
    }
  };
  const withToken = <T>(call: (token: string) => Promise<T>, signal: GiveUpSignal, token: string): Promise<T> => {
    return promiseOf(call, token).then(undefined, (error: unknown) =>
      isUnauthenticated(error) ? refusedAgain(call, signal, token) : Promise.reject(error),
    );
  };
  return (call, signal) => {
    const token = source.ready();
    if (token !== undefined) return withToken(call, signal, token);
    return login(signal).then(
      (fresh) => withToken(call, signal, fresh),
      (error: unknown) => {
        throw serviceRefused(error);
      },
    );
  };
}

/**
 * The service's own credentials refused: the caller sent none, so that is the service's
 * problem, not the caller's (apps commonly sign their user out on UNAUTHENTICATED).
 */
function serviceRefused(error: unknown): unknown {
  if (!isUnauthenticated(error)) return error;
  return new FacadeError('UPSTREAM_UNAVAILABLE', "Flatpeak refused this service's credentials", error.upstream);
}

const isUnauthenticated = (error: unknown): error is FacadeError => error instanceof FacadeError && error.code === 'UNAUTHENTICATED';

/** Pass-through: the caller's own `Authorization: Bearer …`; no token, no upstream call. */
export function authorizeWithCallerToken(authorization: string | null, missing: () => Error): Authorize {
  const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  const token = match?.[1];
  return (call) => (token ? call(token) : Promise.reject(missing()));
}
