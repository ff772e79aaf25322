import DataLoader from 'dataloader';
import { badUserInput } from '../errors.ts';
import type { Device } from '../upstream/types.ts';

/** Flatpeak's ID pattern with the device prefix, bounded so that no caller sends us a novel. */
const DEVICE_ID = /^dev_[A-Za-z0-9]{1,64}$/;

export function assertDeviceId(id: string): void {
  if (!DEVICE_ID.test(id)) {
    const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id;
    throw badUserInput(`${JSON.stringify(shown)} is not a device ID (expected dev_ followed by up to 64 letters or digits)`);
  }
}

/**
 * One loader per request: every Device load of the request (root fields, aliases,
 * `_entities`, nested fields) lands in the same batch, is deduplicated by id, and turns
 * into concurrent single-device calls, since Flatpeak has no multi-id endpoint.
 */
export function createDeviceLoader(fetchDevice: (id: string) => Promise<Device>): DataLoader<string, Device> {
  return new DataLoader<string, Device>((ids) =>
    Promise.all(
      ids.map(async (id) => {
        try {
          assertDeviceId(id);
          return await fetchDevice(id);
        } catch (error) {
          // DataLoader wants errors as values: one device's failure is that device's alone.
          return error instanceof Error ? error : new Error(String(error));
        }
      }),
    ),
  );
}
