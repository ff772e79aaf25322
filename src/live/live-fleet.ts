import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Device } from '../upstream/types.ts';

/**
 * What the replicas of a fleet share about live devices: who polls a device (a lease), and
 * each version of it that any replica learns (by a poll or a write), pushed to all of them.
 * Keys are a poller's key: the upstream credential's key and the device id.
 */
export interface LiveFleet {
  /**
   * Whether this replica polls the device now. `poll: false` means another replica holds the
   * lease (its changes arrive through `listen`); `retryInMs` is when to ask again. Never
   * rejects: without Redis the answer is to poll, as a lone replica does.
   */
  claim(credentialKey: string, id: string): Promise<{ poll: boolean; retryInMs?: number }>;
  /** Gives the lease up (the last local subscriber left, or shutdown), if this replica holds it. */
  release(credentialKey: string, id: string): void;
  /** Tells every replica (this one included) of a version of the device. */
  announce(credentialKey: string, device: Device): void;
  /** Calls `onDevice` with each version another replica (or this one) announces, until `unlisten`. */
  listen(credentialKey: string, id: string, onDevice: (device: Device) => void): void;
  unlisten(credentialKey: string, id: string): void;
  /** Closes the push connection (shutdown). */
  close(): void;
}

export interface LiveFleetOptions {
  /** The lease's time to live: a holder that stops renewing (it died) loses the device after this. */
  readonly leaseMs: number;
  readonly logger: Logger;
  /** Told of each failed Redis command or connection (counted, logged at most once a minute). */
  readonly onError: (error: unknown) => void;
}

// Compare-and-renew, compare-and-delete: only the holder may extend or give up its lease
// (a plain PEXPIRE or DEL could take over, or drop, another replica's).
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -1
end
return redis.call('PTTL', KEYS[1])
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Channel and lease names, outside ioredis's key prefix (channels are not keys) but under the same namespace. */
const channelOf = (credentialKey: string, id: string) => `flatpeak-graph:live:${credentialKey}:${id}`;
const leaseOf = (credentialKey: string, id: string) => `live-lease:${credentialKey}:${id}`;

/**
 * The fleet's live devices through Redis: a lease per device (SET NX PX, renewed and released
 * by compare-and-set scripts) and pub/sub, one channel per device, on a connection of its own.
 *
 * Pub/sub rather than Streams: an event is the whole device as it is now, not a delta, so a
 * missed one is repaired by the next change or the next poll; Streams would keep a log per
 * device that nobody needs to replay, with consumer offsets and trimming to manage. While a
 * replica's push connection is down, Redis is down for it too: `claim` then answers "poll",
 * and it finds the changes itself.
 */
export function createRedisLiveFleet(redis: Redis, { leaseMs, logger, onError }: LiveFleetOptions): LiveFleet {
  const me = randomUUID();
  const listeners = new Map<string, (device: Device) => void>();
  // Created lazily: a replica nobody subscribes to holds no second connection.
  let subscriber: Redis | undefined;

  function push(): Redis {
    if (subscriber) return subscriber;
    const connection = redis.duplicate({ keyPrefix: '' });
    connection.on('error', onError);
    connection.on('message', (channel: string, message: string) => {
      const onDevice = listeners.get(channel);
      if (!onDevice) return;
      try {
        onDevice(JSON.parse(message) as Device);
      } catch (error) {
        logger.warn({ err: error, channel }, 'unreadable live device event ignored');
      }
    });
    // Channels that could not be subscribed while Redis was away are subscribed again now
    // (ioredis itself resubscribes only those that were).
    connection.on('ready', () => {
      if (listeners.size > 0) connection.subscribe(...listeners.keys()).catch(onError);
    });
    subscriber = connection;
    return connection;
  }

  return {
    async claim(credentialKey, id) {
      const lease = leaseOf(credentialKey, id);
      try {
        const renewed = (await redis.eval(RENEW, 1, lease, me, leaseMs)) as number;
        if (renewed === -1) return { poll: true };
        if (renewed === -2 && (await redis.set(lease, me, 'PX', leaseMs, 'NX')) === 'OK') return { poll: true };
        // Held by another replica: ask again when its lease would run out if it is not renewed.
        return { poll: false, retryInMs: renewed > 0 ? renewed + 10 : undefined };
      } catch (error) {
        onError(error);
        return { poll: true };
      }
    },
    release(credentialKey, id) {
      redis.eval(RELEASE, 1, leaseOf(credentialKey, id), me).catch(onError);
    },
    announce(credentialKey, device) {
      redis.publish(channelOf(credentialKey, device.id), JSON.stringify(device)).catch(onError);
    },
    listen(credentialKey, id, onDevice) {
      const channel = channelOf(credentialKey, id);
      listeners.set(channel, onDevice);
      // While the connection is not ready (opening, or Redis away) its 'ready' handler subscribes it.
      const connection = push();
      if (connection.status === 'ready') connection.subscribe(channel).catch(onError);
    },
    unlisten(credentialKey, id) {
      const channel = channelOf(credentialKey, id);
      if (!listeners.delete(channel)) return;
      subscriber?.unsubscribe(channel).catch(onError);
    },
    close() {
      listeners.clear();
      subscriber?.disconnect();
    },
  };
}
