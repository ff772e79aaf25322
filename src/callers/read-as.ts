import { FacadeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Device } from '../upstream/types.ts';
import { mayRead, mayReadMalformed } from './access.ts';
import type { Caller } from './caller.ts';
import { promiseOf } from '../promise-of.ts';

/**
 * The same answer for a device that does not exist and one the caller may not read, so
 * that ids cannot be probed. Flatpeak's own 404 details are dropped for the same reason.
 */
export const deviceNotFound = (id: string) => new FacadeError('NOT_FOUND', `No device ${id}`);

/** A device as the service had it: from Flatpeak just now, or remembered (the device cache, a poller's last version). */
export interface DeviceAnswer {
  readonly device: Device;
  /** True when it came from something the service keeps, not from a Flatpeak call made for this read. */
  readonly remembered: boolean;
}

/**
 * A device read as `caller` may learn of it, whichever entry point asked (a query's loader,
 * a subscription's first version), so that they all answer alike: the device if the access
 * rule lets the caller read it; `deviceNotFound` if not, if Flatpeak has no such device, or
 * if Flatpeak sent it in a shape whose error the caller could not have read; any other error
 * as it is.
 *
 * A remembered device the caller may not read is never refused as it stands: `readNow`
 * asks Flatpeak, and the fresh answer decides. A missing id always costs a Flatpeak call
 * (nothing remembers it), so a refusal must cost one too, or its speed would tell that the
 * device exists (issue 21). It also means a device that has just become the caller's is not
 * refused on an older copy.
 */
export function readAs(
  caller: Caller,
  id: string,
  read: () => Promise<DeviceAnswer>,
  { logger, requestId, readNow }: { logger: Logger; requestId?: string | undefined; readNow: () => Promise<Device> },
): Promise<Device> {
  const allowed = (device: Device): Device => {
    if (mayRead(caller, device)) return device;
    logger.info({ requestId, caller: caller.key, device: id }, 'device access denied');
    throw deviceNotFound(id);
  };
  const told = (error: unknown): never => {
    throw toldAs(caller, id, error, logger, requestId);
  };
  // Not an async function: it runs once per device load, and the read's own promise,
  // followed once, is all the usual case needs.
  return promiseOf(read).then(
    ({ device, remembered }) => (remembered && !mayRead(caller, device) ? promiseOf(readNow).then(allowed, told) : allowed(device)),
    told,
  );
}

/** A read's error as the caller may learn it. */
function toldAs(caller: Caller, id: string, error: unknown, logger: Logger, requestId: string | undefined): unknown {
  if (!(error instanceof FacadeError)) return error;
  if (error.code === 'NOT_FOUND') return deviceNotFound(id);
  // A malformed answer must not tell a caller who may not read the device that it exists.
  if (error.code === 'UPSTREAM_BAD_RESPONSE' && !mayReadMalformed(caller, error.received)) {
    logger.info({ requestId, caller: caller.key, device: id }, 'device access denied (malformed answer)');
    return deviceNotFound(id);
  }
  return error;
}
