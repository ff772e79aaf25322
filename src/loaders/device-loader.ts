import DataLoader from 'dataloader';
import { badUserInput } from '../errors.ts';
import type { Device } from '../upstream/types.ts';
import { promiseOf } from '../promise-of.ts';

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
 *
 * Each load settles as soon as its own call does, not when the whole batch has: the batch
 * hands DataLoader one promise per id, which each load then follows. So a slow device
 * holds back only the fields that need it, and a `@defer`red fragment (executed in the
 * same tick, hence the same batch) does not delay the first part of the response.
 */
/**
 * Every load is marked handled where it is made. Execution may give up on a load a
 * resolver started (a failed @stream argument, a sibling nulling the list, the subgraph's
 * `_entities` throwing midway), and its later rejection must not become a stray one;
 * graphql-js still receives and reports the rejections it waits for.
 */
class DeviceLoader extends DataLoader<string, Device> {
  override load(id: string): Promise<Device> {
    const loading = super.load(id);
    loading.catch(() => {});
    return loading;
  }
}

export function createDeviceLoader(
  fetchDevice: (id: string) => Promise<Device>,
  { maxDevices = Number.POSITIVE_INFINITY }: { maxDevices?: number } = {},
): DataLoader<string, Device> {
  // Distinct devices fetched by this request so far. Aliases multiply what one document
  // can ask for (30 × devices(100 ids)); past the cap a request gets errors, not the
  // whole upstream queue, which it would otherwise take from every other caller.
  let fetched = 0;
  const load = (id: string): Promise<Device> => {
    assertDeviceId(id);
    if (fetched >= maxDevices) {
      throw badUserInput(`This request asks for more than ${maxDevices} distinct devices; ${id} was not loaded`);
    }
    fetched += 1;
    return fetchDevice(id);
  };
  // One device's failure is that device's alone: it rejects its own promise only. (Not an
  // async function: that would wrap each load's promise in one more.) The batch answers
  // with each device's promise, not its value: DataLoader resolves each key's promise with
  // its element, which then follows that device's own call, so no device waits for the
  // slowest of its batch. DataLoader's types ask for values, hence the cast.
  return new DeviceLoader(async (ids) => ids.map((id) => promiseOf(load, id)) as unknown as Device[]);
}
