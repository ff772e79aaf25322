import { GraphQLError } from 'graphql';

/** The `extensions.code` values clients can rely on. */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_OVERLOADED'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_REJECTED'
  | 'TOO_MANY_SUBSCRIPTIONS'
  | 'SHUTTING_DOWN'
  /** The Accept header lists no media type the result can be sent as (HTTP 406; src/plugins/response/use-not-acceptable.ts). */
  | 'NOT_ACCEPTABLE';

/** What Flatpeak said, when it said something: safe to show (no bodies, no headers). */
export interface UpstreamDetails {
  readonly status?: number;
  /** Flatpeak's own error `code`, e.g. `account_disabled`. */
  readonly code?: string;
}

/**
 * The one error class of the service: a GraphQLError, so Yoga shows its message and
 * `extensions.code` while masking everything else as "Unexpected error.". The cause (an
 * undici or zod error) stays on the server: GraphQLError serializes only message,
 * locations, path and extensions.
 */
export class FacadeError extends GraphQLError {
  override name = 'FacadeError';
  readonly code: ErrorCode;
  readonly upstream: UpstreamDetails | undefined;
  /** Flatpeak's `Retry-After`, in milliseconds, when it sent one (server-side only). */
  readonly retryAfterMs: number | undefined;
  /** Flatpeak's own message for a refused request (a write's user errors show it). */
  readonly upstreamMessage: string | undefined;
  /** For a body of an unexpected shape: what Flatpeak sent, parsed (server-side only). */
  readonly received: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    upstream?: UpstreamDetails,
    options?: {
      cause?: unknown;
      retryAfterMs?: number | undefined;
      upstreamMessage?: string | undefined;
      /** What Flatpeak sent when its shape was unexpected; never shown. */
      received?: unknown;
      /** Shown to the client beside `code` (e.g. `retryAfterMs` of our own rate limit). */
      extensions?: Record<string, unknown>;
      /** For an error that refuses the whole request: its HTTP status and headers (Yoga reads, then drops, this). */
      http?: { status: number; headers?: Record<string, string> };
    },
  ) {
    super(message, {
      extensions: {
        code,
        ...(upstream ? { upstream: { ...upstream } } : {}),
        ...options?.extensions,
        ...(options?.http ? { http: options.http } : {}),
      },
    });
    this.code = code;
    this.upstream = upstream;
    this.retryAfterMs = options?.retryAfterMs;
    this.upstreamMessage = options?.upstreamMessage;
    this.received = options?.received;
    // Not `originalError`: Yoga would then treat the error as unexpected and mask it.
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export const badUserInput = (message: string) => new FacadeError('BAD_USER_INPUT', message);
