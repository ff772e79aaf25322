import { FacadeError } from '../errors.ts';
import { signIn } from './access.ts';
import type { Caller } from './caller.ts';
import type { RateLimiter } from './rate-limit.ts';

/** What a pass-through caller without a token gets when a call needs one. */
export const missingToken = () =>
  new FacadeError('UNAUTHENTICATED', 'Send your Flatpeak bearer token in the Authorization header (Authorization: Bearer <token>)');

/**
 * The check before any upstream work of a request: an identity (a JWT with service
 * credentials, a Flatpeak token in pass-through), and one unit of the caller's rate budget.
 */
export function createAdmit(caller: Caller, rateLimiter: RateLimiter, serviceCredentials: boolean): () => Promise<void> {
  return async () => {
    if (caller.kind === 'anonymous') throw serviceCredentials ? signIn() : missingToken();
    const retryAfterMs = await rateLimiter.take(caller.key);
    if (retryAfterMs !== undefined) {
      throw new FacadeError('RATE_LIMITED', `Too many device reads from this caller; try again in ${retryAfterMs} ms`, undefined, {
        extensions: { retryAfterMs },
      });
    }
  };
}
