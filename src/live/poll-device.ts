import type { DeviceSource } from '../upstream/device-source.ts';
import type { FlatpeakClient } from '../upstream/flatpeak.ts';
import type { PollDevice } from './live-devices.ts';

/**
 * One poll: `GET /devices/{id}` through the resilient client with the poller's credential,
 * past the device cache (a poll wants Flatpeak's answer now) but joining a read already in
 * flight, and refreshing the cache with what it gets.
 */
export function createDevicePoll(client: FlatpeakClient, devices: DeviceSource, timeoutMs: number): PollDevice {
  return (credential, id, signal) => {
    const deadlineAt = Date.now() + timeoutMs;
    return devices.refresh(credential.key, id, signal, (shared) =>
      credential.authorize((token) => client.getDevice(id, { token, signal: shared, deadlineAt, requestId: `poll:${id}` }), shared),
    );
  };
}
