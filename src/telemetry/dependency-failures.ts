import type { Logger } from '../logger.ts';
import { createThrottledWarnings } from './throttled-warnings.ts';

/** What the service depends on besides Flatpeak's device calls (which have their own metrics). */
export type Dependency = 'jwks' | 'flatpeak_login' | 'redis';

/**
 * Why it failed, from a small fixed set: a metric label and the key of the log throttle, so
 * it must never be a message or anything a caller chooses.
 * - unreachable: no connection (refused, reset, DNS, the circuit open)
 * - timeout: no answer in time
 * - refused: it answered and refused our credentials (401/403, Redis AUTH)
 * - server_error: it answered with a 5xx
 * - rate_limited: it answered 429, or our queue to it is full
 * - bad_response: it answered something else than expected (another status, not a key set, bad JSON)
 * - error: anything else
 */
export type FailureReason = 'unreachable' | 'timeout' | 'refused' | 'server_error' | 'rate_limited' | 'bad_response' | 'error';

export interface DependencyFailure {
  readonly dependency: Dependency;
  readonly reason: FailureReason;
  /** Logged as name, code and message (the logger's serializer), with its cause's code: never a stack. */
  readonly error?: unknown;
  /** Where and what, for the operator (a host, a status): never a key, a token or a URL with a password. */
  readonly details?: Record<string, unknown>;
}

export type ReportDependencyFailure = (failure: DependencyFailure) => void;

/** Read first by whoever looks at the log: what fails, and what callers get meanwhile. */
const MESSAGES: Record<Dependency, string> = {
  jwks: "cannot fetch the identity provider's signing keys (AUTH_JWKS_URL): requests with a bearer token get UPSTREAM_UNAVAILABLE (503) until it can",
  flatpeak_login:
    'cannot log in to Flatpeak with the service credentials (FLATPEAK_ACCOUNT_ID, FLATPEAK_API_KEY): calls to Flatpeak fail with UPSTREAM_UNAVAILABLE until a login succeeds',
  redis:
    'Redis is unavailable (REDIS_URL): each replica serves on its own (no shared device cache, APQ registrations or rate limits) until it is back',
};

/**
 * Every failure counted (`count`, the metric), and logged at warn at most once per interval
 * per dependency and reason: an outage is one line a minute, not one per request.
 */
export function createDependencyFailures({
  logger,
  count,
  now,
}: {
  logger: Logger;
  count: (dependency: Dependency, reason: FailureReason) => void;
  now?: () => number;
}): ReportDependencyFailure {
  const warn = createThrottledWarnings(logger, now ? { now } : {});
  return ({ dependency, reason, error, details }) => {
    count(dependency, reason);
    const cause = causeCode(error);
    warn(
      `${dependency}:${reason}`,
      { dependency, reason, ...details, ...(error === undefined ? {} : { err: error }), ...(cause ? { cause } : {}) },
      MESSAGES[dependency],
    );
  };
}

/**
 * The code of the error's cause (`ECONNREFUSED` under undici's "fetch failed"): where the
 * reason is. Only a code: a cause's message may quote what was received.
 */
function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | null | undefined)?.cause;
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
