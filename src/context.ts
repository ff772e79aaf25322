import type { ServerResponse } from 'node:http';
import type { Context as TraceContext } from '@opentelemetry/api';
import type DataLoader from 'dataloader';
import type { YogaInitialContext } from 'graphql-yoga';
import type { Authenticate } from './callers/authenticate.ts';
import type { Caller } from './callers/caller.ts';
import type { RateLimiter } from './callers/rate-limit.ts';
import { type Admit, createAdmit, missingToken } from './callers/admit.ts';
import { readAs } from './callers/read-as.ts';
import { FacadeError } from './errors.ts';
import { createDeviceLoader } from './loaders/device-loader.ts';
import type { Logger } from './logger.ts';
import { whenClientGone } from './request/client-gone.ts';
import { type GiveUpSignal, Lifetime } from './request/lifetime.ts';
import { type LoadBudget, NO_LOAD_BUDGET, requestShare } from './request/load-budget.ts';
import { requestIdOf } from './request/request-id.ts';
import { type Authorize, authorizeWithCallerToken, authorizeWithService, type TokenSource } from './upstream/auth.ts';
import type { DeviceRead, DeviceSource } from './upstream/device-source.ts';
import type { DeviceListQuery, DevicePage, FlatpeakClient } from './upstream/flatpeak.ts';
import { createRequestCalls } from './upstream/request-calls.ts';
import type { Device, DeviceWrite } from './upstream/types.ts';
import { type LiveDevices, noLiveDevices, type UpstreamCredential } from './live/live-devices.ts';

export interface Loaders {
  readonly device: DataLoader<string, Device>;
}

export interface Context {
  readonly requestId: string;
  readonly caller: Caller;
  /** Every device read of the request goes through this loader, which applies the access rule. */
  readonly loaders: Loaders;
  /**
   * The device as Flatpeak holds it now, past the cache and any call in flight, if this
   * caller may read it (else NOT_FOUND, as a read): a write is decided on this copy, never
   * on a cached one that a change made elsewhere may have overtaken.
   */
  readDeviceForWrite(id: string): Promise<Device>;
  /** One page of `GET /devices` (rate-limited like a device load); the caller's access is the resolver's to apply. */
  listDevices(query: DeviceListQuery): Promise<DevicePage>;
  /** How long the whole response may be kept by the client: the least of its devices' (0: not at all). */
  readonly freshness: { maxAgeMs: number };
  /** The response is complete: stop the request's timer and anything of it still running. */
  dispose(): void;
  /** Identity and the caller's budget (one unit), checked before upstream work that is not a device load (see Admit). */
  readonly admit: Admit;
  /**
   * `POST /devices` (no `id`) or `PATCH /devices/{id}` for this caller, who has been
   * authorized already. The request's loader and the shared cache then hold Flatpeak's answer.
   */
  writeDevice(write: { readonly id?: string; readonly body: DeviceWrite; readonly idempotencyKey?: string | undefined }): Promise<Device>;
  /** This caller's Flatpeak credential, for work that outlives the request (live pollers). */
  readonly upstreamCredential: UpstreamCredential;
  /** The live device pollers behind subscriptions, shared by every request. */
  readonly live: LiveDevices;
  /**
   * When a subscription ends, if not with its request's connection: an HTTP callback
   * subscription (use-subscription-callbacks.ts), whose request is answered at once.
   */
  readonly subscriptionSignal?: AbortSignal;
}

// Abort reasons: plain errors made once, not a DOMException per request.
const CLIENT_GONE = new Error('the client went away');
const DEADLINE_PASSED = new Error("the request's deadline passed");
const REQUEST_DONE = new Error('the response is complete');

export interface ContextDependencies {
  readonly client: FlatpeakClient;
  /** Cache (when on) and in-flight coalescing in front of `client.getDevice`. */
  readonly devices: DeviceSource;
  /** Set in service-credentials mode; otherwise each caller's bearer token is passed through. */
  readonly serviceToken: TokenSource | undefined;
  readonly authenticate: Authenticate;
  readonly rateLimiter: RateLimiter;
  readonly logger: Logger;
  /** Every upstream wait of the request ends by then. */
  readonly requestDeadlineMs: number;
  /** Distinct devices one request may load. */
  readonly maxDevicesPerRequest: number;
  /** Upstream calls one request may have in flight or in the shared queue at once. */
  readonly maxCallsPerRequest: number;
  /** Device loads of every request at once (MAX_DEVICE_LOADS_IN_FLIGHT). */
  readonly loadBudget?: LoadBudget;
  /** The pollers behind subscriptions; none (subscriptions refused) if not given. */
  readonly live?: LiveDevices;
  /** The request's operation span, parent of its upstream calls (tracing on). */
  readonly traceContextOf?: ((request: Request) => TraceContext | undefined) | undefined;
}

const tooManyLoads = (id: string) =>
  new FacadeError('UPSTREAM_OVERLOADED', `Too many device loads are waiting in this instance; ${id} was not loaded. Try again shortly`);

type ServerContext = { req?: { socket?: { remoteAddress?: string } }; res?: ServerResponse };

/**
 * Builds the context of one GraphQL request. Everything here lives for that request
 * only: its loader cache never serves another caller, whose access may differ.
 */
export function createContextFactory({
  client,
  devices,
  serviceToken,
  authenticate,
  rateLimiter,
  logger,
  requestDeadlineMs,
  maxDevicesPerRequest,
  maxCallsPerRequest,
  loadBudget = NO_LOAD_BUDGET,
  live = noLiveDevices,
  traceContextOf,
}: ContextDependencies) {
  const serviceAuthorize = serviceToken ? authorizeWithService(serviceToken) : undefined;

  return async (initial: YogaInitialContext & ServerContext): Promise<Context> => {
    const { request } = initial;
    const requestId = requestIdOf(request);
    const traceContext = traceContextOf?.(request);
    // A bad token refuses the whole request (401) here, before anything runs.
    const caller = await authenticate(request, initial.req?.socket?.remoteAddress);
    // The caller's JWT is never sent to Flatpeak: with service credentials every call
    // carries the service token; only a pass-through caller's own Flatpeak token is forwarded.
    const authorize: Authorize =
      serviceAuthorize ?? authorizeWithCallerToken(caller.kind === 'flatpeak' ? `Bearer ${caller.token}` : null, missingToken);
    // Ends at the deadline or when the client goes away: in-flight upstream calls of this
    // request are then cancelled, and its unfinished items answer UPSTREAM_TIMEOUT.
    // One lifetime and one timer, both let go when the request ends (`dispose`):
    // AbortSignal.any and AbortSignal.timeout cost a tenth of a small request.
    const lifetime = new Lifetime();
    const stopWatching = whenClientGone(initial, () => lifetime.end(CLIENT_GONE));
    const deadline = setTimeout(() => lifetime.end(DEADLINE_PASSED), requestDeadlineMs);
    const upstream = createRequestCalls({
      authorize,
      lifetime,
      requestId,
      traceContext,
      deadlineAt: Date.now() + requestDeadlineMs,
      maxCalls: maxCallsPerRequest,
    });
    const admit = createAdmit(caller, rateLimiter, serviceAuthorize !== undefined);
    const takeLoad = requestShare(loadBudget, lifetime);

    // Whose answers may be shared: those fetched with the same Flatpeak credential.
    const credential = caller.kind === 'flatpeak' ? caller.key : 'service';
    const freshness = { maxAgeMs: Number.POSITIVE_INFINITY };

    const noteFreshness = (read: DeviceRead) => {
      freshness.maxAgeMs = Math.min(freshness.maxAgeMs, read.maxAgeMs);
      return read;
    };
    // No async functions on this path: it runs once per device, and each would add a
    // promise and a turn of the microtask queue to every load.
    const readDevice = (id: string): Promise<Device> => {
      const fetch = (shared: GiveUpSignal) => upstream((options) => client.getDevice(id, options), shared);
      return readAs(caller, id, () => devices.read(credential, id, lifetime, fetch).then(noteFreshness), {
        logger,
        requestId,
        // A cached device this caller may not read: Flatpeak's answer now decides.
        readNow: () => {
          freshness.maxAgeMs = 0;
          return devices.refresh(credential, id, lifetime, fetch);
        },
      });
    };
    // A throw here rejects that device's load only (createDeviceLoader).
    const device = createDeviceLoader(
      (id) => {
        if (!takeLoad()) throw tooManyLoads(id);
        const admitted = admit();
        return admitted ? admitted.then(() => readDevice(id)) : readDevice(id);
      },
      { maxDevices: maxDevicesPerRequest },
    );

    return {
      requestId,
      caller,
      dispose() {
        clearTimeout(deadline);
        stopWatching();
        // Whatever of this request is still running has nobody to answer any more.
        lifetime.end(REQUEST_DONE);
      },
      loaders: { device },
      freshness,
      async readDeviceForWrite(id) {
        if (!takeLoad()) throw tooManyLoads(id);
        await admit();
        // Past the cache and the coalescer: a write is decided on what Flatpeak holds now.
        const readFresh = () => devices.fresh(credential, id, () => upstream((options) => client.getDevice(id, options)));
        return readAs(caller, id, async () => ({ device: await readFresh(), remembered: false }), {
          logger,
          requestId,
          readNow: readFresh,
        });
      },
      async listDevices(query) {
        await admit();
        freshness.maxAgeMs = 0; // a listing is not cached
        return upstream((options) => client.listDevices(query, options));
      },
      admit,
      async writeDevice({ id, body, idempotencyKey }) {
        await admit();
        freshness.maxAgeMs = 0;
        const written = await upstream((options) =>
          id === undefined
            ? client.createDevice(body, { ...options, idempotencyKey })
            : client.updateDevice(id, body, { ...options, idempotencyKey }),
        );
        // From now on this request, later requests and the pollers see what Flatpeak answered.
        device.clear(written.id).prime(written.id, written);
        await devices.remember(credential, written);
        live.offer(credential, written);
        return written;
      },
      upstreamCredential: { key: credential, authorize },
      live,
    };
  };
}
