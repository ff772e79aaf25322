import { FacadeError } from '../errors.ts';
import type { Device } from '../upstream/types.ts';
import { type Caller, READ_ALL_SCOPE, WRITE_SCOPE } from './caller.ts';

/**
 * Every authorization decision of the service is made in this file: what a caller may do as
 * a whole (`requirePermission`), and which devices it may read, change and place
 * (`mayRead`, `mayReassign`, `referenceForWrite`, `locationRefused`). Resolvers, the loader and the pollers
 * call these; none decides on its own.
 */

/** What a caller without an identity gets where one is needed (CALLER_AUTH=jwt). */
export const signIn = () =>
  new FacadeError('UNAUTHENTICATED', 'Sign in: send your token in the Authorization header (Authorization: Bearer <JWT>)');

/** What a caller may do as a whole, before any device is looked at. */
export type Permission = 'list-all' | 'write';

const PERMISSIONS: Record<Permission, { readonly scope: string; readonly refusal: string }> = {
  'list-all': { scope: READ_ALL_SCOPE, refusal: `deviceList needs the ${READ_ALL_SCOPE} scope; use myDevices for your own devices` },
  write: { scope: WRITE_SCOPE, refusal: `Creating and changing devices needs the ${WRITE_SCOPE} scope` },
};

/** Throws UNAUTHENTICATED for a caller without an identity, FORBIDDEN for one without the permission. */
export function requirePermission(caller: Caller, permission: Permission): void {
  if (caller.kind === 'anonymous') throw signIn();
  const { scope, refusal } = PERMISSIONS[permission];
  if (!grants(caller, scope)) throw new FacadeError('FORBIDDEN', refusal);
}

/**
 * The one device-access rule. A caller may read a device when its token has the
 * `devices:read:all` scope, when the device's reference_id is one of the caller's
 * references, or when one of the device's locations is one of the caller's locations.
 * Without service credentials Flatpeak itself decides; with CALLER_AUTH=none everyone may.
 */
export function mayRead(caller: Caller, device: Device): boolean {
  if (grants(caller, READ_ALL_SCOPE)) return true;
  return (
    caller.kind === 'user' &&
    (caller.references.includes(device.reference_id) || device.locations.some((location) => caller.locations.includes(location)))
  );
}

/**
 * What a scope allows, by kind of caller: a user needs it in its token; without service
 * credentials Flatpeak itself decides, and with CALLER_AUTH=none the trusted router may.
 */
function grants(caller: Caller, scope: string): boolean {
  switch (caller.kind) {
    case 'trusted':
    case 'flatpeak':
      return true;
    case 'anonymous':
      return false;
    case 'user':
      return caller.scopes.has(scope);
  }
}

/**
 * The rule for a device Flatpeak sent in an unexpected shape: decided on whatever
 * `reference_id` and `locations` it carries, so that its error goes only to a caller who
 * could have read it; anyone else gets what a missing device gets.
 */
export function mayReadMalformed(caller: Caller, received: unknown): boolean {
  const raw = typeof received === 'object' && received !== null ? (received as Record<string, unknown>) : {};
  const lenient = {
    reference_id: typeof raw.reference_id === 'string' ? raw.reference_id : '',
    locations: Array.isArray(raw.locations) ? raw.locations.filter((id): id is string => typeof id === 'string') : [],
  };
  return mayRead(caller, lenient as Device);
}

// `write` (the devices:write scope) lets a caller create and update devices at all. Which
// devices is the read rule's business: an update needs `mayRead` on the device (and
// `mayReassign` to change whose it is or where), a new device gets the caller's reference
// (`referenceForWrite`). Pass-through: Flatpeak decides; CALLER_AUTH=none: the trusted router may.

/**
 * May change whose a device is and where it is (its `reference_id` and `locations`): a user
 * without `devices:read:all` only when it owns the device (its reference_id is one of the
 * user's). Reading it through a shared location is not enough: such a user could otherwise
 * take the device from its owner, or hide it from everyone else who shares the location.
 */
export function mayReassign(caller: Caller, device: Device): boolean {
  return grants(caller, READ_ALL_SCOPE) || (caller.kind === 'user' && caller.references.includes(device.reference_id));
}

/**
 * The first of the `requested` locations a caller may not place a device at, with its
 * index, or undefined. With AUTH_LOCATIONS_CLAIM a location's members read its devices, so
 * a user without `devices:read:all` places devices only at locations it is part of: else it
 * could plant one in a stranger's home. A location the device is at already (`current`) is
 * no placement. Without the claim locations give no one access, and anyone else may.
 */
export function locationRefused(
  caller: Caller,
  requested: readonly string[],
  current: readonly string[] = [],
): { readonly index: number; readonly location: string } | undefined {
  if (caller.kind !== 'user' || !caller.locationsClaimed || caller.scopes.has(READ_ALL_SCOPE)) return undefined;
  const index = requested.findIndex((location) => !caller.locations.includes(location) && !current.includes(location));
  return index < 0 ? undefined : { index, location: requested[index]! };
}

export type ReferenceDecision =
  | { readonly allowed: true; readonly referenceId: string | undefined }
  | { readonly allowed: false; readonly reason: 'no-reference' | 'not-yours' };

/**
 * The reference_id a write may give a device. A user without `devices:read:all` writes
 * only under one of its own references (its first, when it names none), so that no write
 * can place a device where the user could no longer read it, or hand it to someone else.
 * Everyone else gets what it asked for (undefined: left as it is, or missing).
 */
export function referenceForWrite(caller: Caller, requested: string | undefined): ReferenceDecision {
  if (caller.kind !== 'user' || caller.scopes.has(READ_ALL_SCOPE)) return { allowed: true, referenceId: requested };
  if (requested === undefined) {
    const own = caller.references[0];
    return own === undefined ? { allowed: false, reason: 'no-reference' } : { allowed: true, referenceId: own };
  }
  return caller.references.includes(requested) ? { allowed: true, referenceId: requested } : { allowed: false, reason: 'not-yours' };
}
