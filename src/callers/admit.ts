import { FacadeError } from '../errors.ts';
import { signIn } from './access.ts';
import type { Caller } from './caller.ts';
import type { RateLimiter } from './rate-limit.ts';

/** What a pass-through caller without a token gets when a call needs one. */
export const missingToken = () =>
  new FacadeError('UNAUTHENTICATED', 'Send your Flatpeak bearer token in the Authorization header (Authorization: Bearer <token>)');

/** Admits, or throws why not: undefined when that is known at once, else a promise of it. */
export type Admit = () => Promise<void> | undefined;

/**
 * The check before any upstream work of a request: an identity (a JWT with service
 * credentials, a Flatpeak token in pass-through), and one unit of the caller's rate budget.
 * It runs for every device load, so it answers at once when it can: with the bucket in
 * process, or no limit, nothing is waited for.
 */
export function createAdmit(caller: Caller, rateLimiter: RateLimiter, serviceCredentials: boolean): Admit {
  return () => {
    if (caller.kind === 'anonymous') throw serviceCredentials ? signIn() : missingToken();
    const retryAfterMs = rateLimiter.take(caller.key);
    if (retryAfterMs instanceof Promise) return retryAfterMs.then(granted);
    granted(retryAfterMs);
    return undefined;
  };
}

function granted(retryAfterMs: number | undefined): void {
  if (retryAfterMs !== undefined) {
    throw new FacadeError('RATE_LIMITED', `Too many device reads from this caller; try again in ${retryAfterMs} ms`, undefined, {
      extensions: { retryAfterMs },
    });
  }
}
