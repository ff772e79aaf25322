/**
 * Who is calling, as established once per request by `authenticate.ts`. Every device read
 * is decided from this value alone (`access.ts`), whatever path asked for the device.
 */
export type Caller =
  /** A verified JWT from the company's identity provider (CALLER_AUTH=jwt). */
  | {
      readonly kind: 'user';
      /** Per-caller limits and logs: `sub:<subject>`. */
      readonly key: string;
      readonly subject: string;
      readonly scopes: ReadonlySet<string>;
      /** Values of AUTH_REFERENCE_CLAIM: devices whose reference_id is one of them are the caller's. */
      readonly references: readonly string[];
      /** Values of AUTH_LOCATIONS_CLAIM: devices at one of these locations are the caller's. */
      readonly locations: readonly string[];
      /**
       * When the token stops being accepted (ms since the epoch): its `exp` plus the clock
       * leeway. What outlives the request (a subscription) ends then.
       */
      readonly acceptedUntil: number;
      /** AUTH_LOCATIONS_CLAIM is set: the user is part of `locations` and of no other location. */
      readonly locationsClaimed?: boolean;
    }
  /** CALLER_AUTH=jwt and no token: may read nothing. */
  | { readonly kind: 'anonymous'; readonly key: string }
  /** CALLER_AUTH=none: not identified, reads every device of the account. */
  | { readonly kind: 'trusted'; readonly key: string }
  /** Pass-through: the caller's own Flatpeak token is its identity; Flatpeak decides. */
  | { readonly kind: 'flatpeak'; readonly key: string; readonly token: string };

/** Reads every device: the back office and the router's own service account. */
export const READ_ALL_SCOPE = 'devices:read:all';

/** Creates and updates devices (which ones: those the caller may read, or new ones under its own reference). */
export const WRITE_SCOPE = 'devices:write';
