import { FacadeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Device } from '../upstream/types.ts';
import { mayRead, mayReadMalformed } from './access.ts';
import type { Caller } from './caller.ts';

/**
 * The same answer for a device that does not exist and one the caller may not read, so
 * that ids cannot be probed. Flatpeak's own 404 details are dropped for the same reason.
 */
export const deviceNotFound = (id: string) => new FacadeError('NOT_FOUND', `No device ${id}`);

/**
 * A device read as `caller` may learn of it, whichever entry point asked (a query's loader,
 * a subscription's first version), so that they all answer alike: the device if the access
 * rule lets the caller read it; `deviceNotFound` if not, if Flatpeak has no such device, or
 * if Flatpeak sent it in a shape whose error the caller could not have read; any other error
 * as it is.
 */
export async function readAs(
  caller: Caller,
  id: string,
  read: () => Promise<Device>,
  { logger, requestId }: { logger: Logger; requestId?: string | undefined },
): Promise<Device> {
  let device: Device;
  try {
    device = await read();
  } catch (error) {
    if (!(error instanceof FacadeError)) throw error;
    if (error.code === 'NOT_FOUND') throw deviceNotFound(id);
    // A malformed answer must not tell a caller who may not read the device that it exists.
    if (error.code === 'UPSTREAM_BAD_RESPONSE' && !mayReadMalformed(caller, error.received)) {
      logger.info({ requestId, caller: caller.key, device: id }, 'device access denied (malformed answer)');
      throw deviceNotFound(id);
    }
    throw error;
  }
  if (!mayRead(caller, device)) {
    logger.info({ requestId, caller: caller.key, device: id }, 'device access denied');
    throw deviceNotFound(id);
  }
  return device;
}
