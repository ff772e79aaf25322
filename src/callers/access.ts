import type { Device } from '../upstream/types.ts';
import { type Caller, READ_ALL_SCOPE } from './caller.ts';

/**
 * The one device-access rule. A caller may read a device when its token has the
 * `devices:read:all` scope, when the device's reference_id is one of the caller's
 * references, or when one of the device's locations is one of the caller's locations.
 * Without service credentials Flatpeak itself decides; with CALLER_AUTH=none everyone may.
 */
export function mayRead(caller: Caller, device: Device): boolean {
  switch (caller.kind) {
    case 'trusted':
    case 'flatpeak':
      return true;
    case 'anonymous':
      return false;
    case 'user':
      return (
        caller.scopes.has(READ_ALL_SCOPE) ||
        caller.references.includes(device.reference_id) ||
        device.locations.some((location) => caller.locations.includes(location))
      );
  }
}

/** May list every device of the account (`deviceList`), not only the caller's own. */
export function mayListAll(caller: Caller): boolean {
  return caller.kind === 'trusted' || caller.kind === 'flatpeak' || (caller.kind === 'user' && caller.scopes.has(READ_ALL_SCOPE));
}
