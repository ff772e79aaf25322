import { mayRead } from '../callers/access.ts';
import type { Caller } from '../callers/caller.ts';
import { type DeviceAnswer, deviceNotFound, readAs } from '../callers/read-as.ts';
import { FacadeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Authorize } from '../upstream/auth.ts';
import type { Device } from '../upstream/types.ts';
import { createLatestQueue, type LatestQueue } from './latest-queue.ts';
import { timerAt } from './timer-at.ts';
import type { LiveFleet } from './live-fleet.ts';

/** A Flatpeak credential that outlives the request it came with: whose answers may be shared, and how to call with it. */
export interface UpstreamCredential {
  /** `service`, or the pass-through token's hash: answers are shared only under the same key. */
  readonly key: string;
  readonly authorize: Authorize;
}

export interface LiveSettings {
  /** Each watched device is fetched this often (after the previous poll has finished). */
  readonly pollIntervalMs: number;
  /** After this many failed polls in a row, the device's subscriptions end with the last error. */
  readonly maxErrors: number;
  /** Subscriptions one caller may hold open at once. */
  readonly maxPerCaller: number;
  /** Subscriptions the whole instance holds open at once. */
  readonly maxTotal: number;
  /** One poll, retries included, ends by then. */
  readonly pollTimeoutMs: number;
}

/** What a subscriber receives: the device as it is now, or the error that ends its stream. */
export type DeviceEvent = { readonly device: Device } | { readonly error: FacadeError };

/** Fetches one device from Flatpeak with `credential`, on a signal of the poller's own. */
export type PollDevice = (credential: UpstreamCredential, id: string, signal: AbortSignal) => Promise<Device>;

export interface LiveObserver {
  poll(outcome: string): void;
  open(subscriptions: number, pollers: number): void;
}

export interface WatchOptions {
  readonly id: string;
  readonly caller: Caller;
  readonly credential: UpstreamCredential;
  /** The subscriber's connection: when it goes, so does the subscription. */
  readonly signal: AbortSignal;
  readonly requestId?: string;
}

export interface LiveDevices {
  /**
   * Opens a subscription to a device: a stream of its versions, the current one first.
   * Rejects (FacadeError) when a limit is reached, the first fetch fails, or the caller may
   * not read the device.
   */
  watch(options: WatchOptions): Promise<AsyncIterableIterator<DeviceEvent>>;
  /** A device Flatpeak has just returned to a write: its watchers get it now, not at the next poll. */
  offer(credentialKey: string, device: Device): void;
  /** Ends every stream with SHUTTING_DOWN and refuses new ones (SIGTERM). */
  close(): void;
  readonly subscriptions: number;
  readonly pollers: number;
}

interface Subscriber {
  readonly caller: Caller;
  readonly queue: LatestQueue<DeviceEvent>;
  /** The version this subscriber last received (JSON), so that nobody gets the same one twice. */
  sent: string | undefined;
}

interface Poller {
  readonly key: string;
  readonly id: string;
  readonly credential: UpstreamCredential;
  readonly subscribers: Set<Subscriber>;
  /**
   * Subscriptions on their way in (`watch` has not yet returned their stream or refused
   * them): the poller is not idle while one is, and each looks again when it is done.
   */
  joining: number;
  /** Subscriptions waiting for the first answer (some of the joining). */
  readonly waiting: Array<{ resolve: (device: Device) => void; reject: (error: unknown) => void }>;
  last: { device: Device; json: string } | undefined;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  inFlight: AbortController | undefined;
  stopped: boolean;
}

const quiet: LiveObserver = { poll() {}, open() {} };

/**
 * The shared pollers behind `deviceUpdated`: one per (upstream credential, device id),
 * however many subscribe, polling every `pollIntervalMs` while anyone watches and stopping
 * when the last subscriber leaves. Flatpeak has no push, so a change is a poll whose answer
 * differs from the previous one. Every version is checked against each subscriber's own
 * access rule before it is sent.
 */
export function createLiveDevices({
  settings,
  poll,
  logger,
  observer = quiet,
  fleet,
}: {
  settings: LiveSettings;
  poll: PollDevice;
  logger: Logger;
  observer?: LiveObserver;
  /** Replicas sharing Redis: one of them polls each device, and every version reaches all of them. */
  fleet?: LiveFleet | undefined;
}): LiveDevices {
  const pollers = new Map<string, Poller>();
  const perCaller = new Map<string, number>();
  let open = 0;
  let closing = false;

  const report = () => observer.open(open, pollers.size);

  function acquire(caller: Caller): void {
    if (closing) throw shuttingDown();
    if (open >= settings.maxTotal) {
      throw new FacadeError('TOO_MANY_SUBSCRIPTIONS', `This server holds ${settings.maxTotal} subscriptions, its most; try again later`);
    }
    const mine = perCaller.get(caller.key) ?? 0;
    if (mine >= settings.maxPerCaller) {
      throw new FacadeError(
        'TOO_MANY_SUBSCRIPTIONS',
        `You have ${settings.maxPerCaller} subscriptions open, the most one caller may; close one first`,
      );
    }
    perCaller.set(caller.key, mine + 1);
    open += 1;
  }

  function release(caller: Caller): void {
    const mine = (perCaller.get(caller.key) ?? 1) - 1;
    if (mine <= 0) perCaller.delete(caller.key);
    else perCaller.set(caller.key, mine);
    open -= 1;
    report();
  }

  /** The poller of the device, started if need be, with one more subscription joining it. */
  function join(credential: UpstreamCredential, id: string): Poller {
    const key = `${credential.key}\u0000${id}`;
    let poller = pollers.get(key);
    if (!poller) {
      poller = {
        key,
        id,
        credential,
        subscribers: new Set(),
        joining: 1,
        waiting: [],
        last: undefined,
        failures: 0,
        timer: undefined,
        inFlight: undefined,
        stopped: false,
      };
      pollers.set(key, poller);
      logger.debug({ device: id, pollers: pollers.size }, 'device poller started');
      const started = poller;
      fleet?.listen(credential.key, id, (device) => {
        if (!started.stopped) publish(started, device);
      });
      // The first version is fetched here whoever holds the lease (a new subscriber wants it
      // now); taking the lease, if it is free, goes alongside.
      if (fleet) void fleet.claim(credential.key, id);
      void pollOnce(poller);
    } else poller.joining += 1;
    return poller;
  }

  function stopIfIdle(poller: Poller): void {
    if (poller.subscribers.size > 0 || poller.joining > 0) return;
    halt(poller);
  }

  /** Stops polling: no subscriber is left, or every one has been sent its final error. */
  function halt(poller: Poller): void {
    if (poller.stopped) return;
    poller.stopped = true;
    clearTimeout(poller.timer);
    poller.inFlight?.abort();
    pollers.delete(poller.key);
    fleet?.unlisten(poller.credential.key, poller.id);
    fleet?.release(poller.credential.key, poller.id);
    report();
    logger.debug({ device: poller.id, pollers: pollers.size }, 'device poller stopped');
  }

  async function pollOnce(poller: Poller): Promise<void> {
    const controller = new AbortController();
    poller.inFlight = controller;
    try {
      // Not any subscriber's request signal: the poll serves them all, for as long as one is there.
      const device = await poll(
        poller.credential,
        poller.id,
        AbortSignal.any([controller.signal, AbortSignal.timeout(settings.pollTimeoutMs)]),
      );
      if (poller.stopped) return;
      observer.poll('ok');
      poller.failures = 0;
      if (publish(poller, device)) fleet?.announce(poller.credential.key, device);
    } catch (error) {
      if (poller.stopped) return;
      const failure =
        error instanceof FacadeError
          ? error
          : new FacadeError('UPSTREAM_UNAVAILABLE', `Polling device ${poller.id} failed`, undefined, { cause: error });
      observer.poll(failure.code);
      fail(poller, failure);
    } finally {
      poller.inFlight = undefined;
      schedule(poller, settings.pollIntervalMs);
    }
  }

  function schedule(poller: Poller, delayMs: number): void {
    if (poller.stopped) return;
    poller.timer = setTimeout(() => void nextTurn(poller), delayMs);
    // Pollers live only while someone is subscribed; they never keep the process up alone.
    poller.timer.unref();
  }

  /** In a fleet, polls only while this replica holds the device's lease; another's changes arrive pushed. */
  async function nextTurn(poller: Poller): Promise<void> {
    if (fleet) {
      const turn = await fleet.claim(poller.credential.key, poller.id);
      if (poller.stopped) return;
      if (!turn.poll) {
        // Ask again when the holder's lease would lapse (it died), at the latest after an interval.
        schedule(poller, Math.min(settings.pollIntervalMs, turn.retryInMs ?? settings.pollIntervalMs));
        return;
      }
    }
    await pollOnce(poller);
  }

  /** Sends a version to the subscribers that have not had it; true if it was new to this poller. */
  function publish(poller: Poller, device: Device): boolean {
    const json = JSON.stringify(device);
    for (const waiter of poller.waiting.splice(0)) waiter.resolve(device);
    if (poller.last?.json === json) return false;
    poller.last = { device, json };
    for (const subscriber of [...poller.subscribers]) deliver(poller, subscriber);
    return true;
  }

  function deliver(poller: Poller, subscriber: Subscriber): void {
    const { device, json } = poller.last!;
    if (subscriber.sent === json) return;
    // A version found after the caller's token stopped being accepted is not sent (the
    // subscriber's timer ends the stream then; this holds should it run late).
    if (expired(subscriber.caller)) {
      endExpired(poller, subscriber);
      return;
    }
    // The rule again on every version: a device whose reference or locations changed may
    // no longer be this caller's.
    if (!mayRead(subscriber.caller, device)) {
      logger.info({ caller: subscriber.caller.key, device: poller.id }, 'device access denied; subscription ended');
      finish(poller, subscriber, deviceNotFound(poller.id));
      stopIfIdle(poller);
      return;
    }
    subscriber.sent = json;
    subscriber.queue.push({ device });
  }

  function fail(poller: Poller, error: FacadeError): void {
    poller.failures += 1;
    for (const waiter of poller.waiting.splice(0)) waiter.reject(error);
    logger.debug({ device: poller.id, failures: poller.failures, code: error.code }, 'device poll failed');
    if (poller.failures < settings.maxErrors) return;
    // The stream ends, with the reason: a client that wants more subscribes again.
    const ended = new FacadeError(
      error.code,
      `Device ${poller.id} could not be fetched ${poller.failures} times in a row, so this subscription ended: ${error.message}`,
      error.upstream,
    );
    logger.warn(
      { device: poller.id, failures: poller.failures, code: error.code, subscribers: poller.subscribers.size },
      'device subscriptions ended after failed polls',
    );
    for (const subscriber of [...poller.subscribers]) finish(poller, subscriber, ended);
    halt(poller);
  }

  function endExpired(poller: Poller, subscriber: Subscriber): void {
    if (!poller.subscribers.has(subscriber)) return;
    logger.info({ caller: subscriber.caller.key, device: poller.id }, 'token expired; subscription ended');
    finish(poller, subscriber, tokenExpired());
    stopIfIdle(poller);
  }

  /** Sends `subscriber` its last event; its slot is given back when the stream closes. */
  function finish(poller: Poller, subscriber: Subscriber, error: FacadeError): void {
    poller.subscribers.delete(subscriber);
    subscriber.queue.push({ error });
    subscriber.queue.end();
  }

  /** The poller's last version (remembered), else its first poll's answer (fresh, for everyone waiting on it). */
  async function firstVersion(poller: Poller, signal: AbortSignal): Promise<DeviceAnswer> {
    if (poller.last) return { device: poller.last.device, remembered: true };
    let entry!: Poller['waiting'][number];
    const answer = new Promise<Device>((resolve, reject) => {
      entry = { resolve, reject };
    });
    poller.waiting.push(entry);
    const leave = () => {
      const index = poller.waiting.indexOf(entry);
      if (index >= 0) poller.waiting.splice(index, 1);
      entry.reject(new FacadeError('UPSTREAM_TIMEOUT', 'The subscription was cancelled before the device was fetched'));
    };
    signal.addEventListener('abort', leave, { once: true });
    try {
      return { device: await answer, remembered: false };
    } finally {
      signal.removeEventListener('abort', leave);
    }
  }

  return {
    async watch({ id, caller, credential, signal, requestId }) {
      acquire(caller);
      const poller = join(credential, id);
      let subscribed = false;
      try {
        // Refused exactly as a query's read would be, at the same cost: a version someone else's
        // poller holds is not refused as it stands, Flatpeak is asked (as it is for a missing id).
        const first = await readAs(caller, id, () => firstVersion(poller, signal), {
          logger,
          requestId,
          readNow: async () => {
            const device = await poll(credential, id, AbortSignal.any([signal, AbortSignal.timeout(settings.pollTimeoutMs)]));
            if (!poller.stopped) publish(poller, device);
            return device;
          },
        });
        if (closing) throw shuttingDown();
        let cancelExpiry = () => {};
        const subscriber: Subscriber = {
          caller,
          sent: undefined,
          queue: createLatestQueue<DeviceEvent>(
            (event) => 'device' in event,
            () => {
              cancelExpiry();
              signal.removeEventListener('abort', leave);
              poller.subscribers.delete(subscriber);
              release(caller);
              stopIfIdle(poller);
            },
          ),
        };
        // A client that disconnects may never ask the stream to return: its connection says it has gone.
        const leave = () => void subscriber.queue.return();
        signal.addEventListener('abort', leave, { once: true });
        poller.subscribers.add(subscriber);
        subscribed = true;
        // Every transport (SSE, multipart, WebSocket) reads this stream: it ends when the
        // caller's token stops being accepted, whether or not the device changes by then.
        if (caller.kind === 'user') cancelExpiry = timerAt(caller.acceptedUntil, () => endExpired(poller, subscriber));
        report();
        if (poller.last) deliver(poller, subscriber);
        else {
          subscriber.sent = JSON.stringify(first);
          subscriber.queue.push({ device: first });
        }
        if (signal.aborted) leave();
        return subscriber.queue;
      } finally {
        // However it ended (a stream, a refusal, an error, the client gone), this
        // subscription no longer holds the poller up: without anyone else, it stops.
        poller.joining -= 1;
        if (!subscribed) release(caller);
        stopIfIdle(poller);
      }
    },
    offer(credentialKey, device) {
      const poller = pollers.get(`${credentialKey}\u0000${device.id}`);
      if (poller && !poller.stopped) publish(poller, device);
      // Every replica's watchers, whether or not anyone watches here.
      fleet?.announce(credentialKey, device);
    },
    close() {
      closing = true;
      // First: the push connection goes, without unsubscribing channel by channel.
      fleet?.close();
      for (const poller of [...pollers.values()]) {
        for (const waiter of poller.waiting.splice(0)) waiter.reject(shuttingDown());
        for (const subscriber of [...poller.subscribers]) finish(poller, subscriber, shuttingDown());
        halt(poller);
      }
    },
    get subscriptions() {
      return open;
    },
    get pollers() {
      return pollers.size;
    },
  };
}

/** No live devices (unit tests of other parts): every subscription is refused. */
export const noLiveDevices: LiveDevices = {
  watch: () => Promise.reject(new FacadeError('UPSTREAM_UNAVAILABLE', 'Subscriptions are not available here')),
  offer() {},
  close() {},
  subscriptions: 0,
  pollers: 0,
};

/** True once the token the caller subscribed with (a JWT's exp plus the leeway) is no longer accepted. */
const expired = (caller: Caller) => caller.kind === 'user' && Date.now() >= caller.acceptedUntil;

const tokenExpired = () =>
  new FacadeError('UNAUTHENTICATED', 'Your token has expired, so this subscription ended; subscribe again with a new token');

const shuttingDown = () => new FacadeError('SHUTTING_DOWN', 'This server is shutting down; subscribe again to continue');
