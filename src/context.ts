import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Context as TraceContext } from '@opentelemetry/api';
import { bulkhead } from 'cockatiel';
import type DataLoader from 'dataloader';
import type { YogaInitialContext } from 'graphql-yoga';
import { mayRead } from './callers/access.ts';
import type { Authenticate } from './callers/authenticate.ts';
import type { Caller } from './callers/caller.ts';
import type { RateLimiter } from './callers/rate-limit.ts';
import { FacadeError } from './errors.ts';
import { createDeviceLoader } from './loaders/device.ts';
import type { Logger } from './logger.ts';
import { type Authorize, authorizeWithCallerToken, authorizeWithService, type TokenSource } from './upstream/auth.ts';
import type { DeviceSource } from './upstream/device-source.ts';
import type { CallOptions, DeviceListQuery, DevicePage, FlatpeakClient } from './upstream/flatpeak.ts';
import type { Device } from './upstream/types.ts';

export interface Loaders {
  readonly device: DataLoader<string, Device>;
}

export interface Context {
  readonly requestId: string;
  readonly caller: Caller;
  /** Every device read of the request goes through this loader, which applies the access rule. */
  readonly loaders: Loaders;
  /** One page of `GET /devices` (rate-limited like a device load); the caller's access is the resolver's to apply. */
  listDevices(query: DeviceListQuery): Promise<DevicePage>;
  /** How long the whole response may be kept by the client: the least of its devices' (0: not at all). */
  readonly freshness: { maxAgeMs: number };
}

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
  /** The request's operation span, parent of its upstream calls (tracing on). */
  readonly traceContextOf?: ((request: Request) => TraceContext | undefined) | undefined;
}

// A caller-supplied request id is kept for tracing across services, but only if it is
// short and plain: it is copied into upstream headers and log lines.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const missingToken = () =>
  new FacadeError('UNAUTHENTICATED', 'Send your Flatpeak bearer token in the Authorization header (Authorization: Bearer <token>)');

const missingJwt = () => new FacadeError('UNAUTHENTICATED', 'Sign in: send your token in the Authorization header (Authorization: Bearer <JWT>)');

/**
 * The same answer for a device that does not exist and one the caller may not read, so
 * that ids cannot be probed. Flatpeak's own 404 details are dropped for the same reason.
 */
export const deviceNotFound = (id: string) => new FacadeError('NOT_FOUND', `No device ${id}`);

type ServerContext = { req?: { socket?: { remoteAddress?: string } } };

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
  traceContextOf,
}: ContextDependencies) {
  const serviceAuthorize = serviceToken ? authorizeWithService(serviceToken) : undefined;

  return async (initial: YogaInitialContext & ServerContext): Promise<Context> => {
    const { request } = initial;
    const incoming = request.headers.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const traceContext = traceContextOf?.(request);
    // A bad token refuses the whole request (401) here, before anything runs.
    const caller = await authenticate(request, initial.req?.socket?.remoteAddress);
    // The caller's JWT is never sent to Flatpeak: with service credentials every call
    // carries the service token; only a pass-through caller's own Flatpeak token is forwarded.
    const authorize: Authorize =
      serviceAuthorize ?? authorizeWithCallerToken(caller.kind === 'flatpeak' ? `Bearer ${caller.token}` : null, missingToken);
    // Aborts at the deadline or when the client goes away: in-flight upstream calls of this
    // request are then cancelled, and its unfinished items answer UPSTREAM_TIMEOUT.
    const deadlineAt = Date.now() + requestDeadlineMs;
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(requestDeadlineMs)]);
    // One listener per pending item: a 100-device request is not a leak.
    setMaxListeners(0, signal);
    // A request waits for its own slots before it joins the shared upstream queue, so one
    // document of many devices cannot push every other caller's calls behind its own.
    const slots = bulkhead(maxCallsPerRequest, Number.POSITIVE_INFINITY);

    /** Identity and the caller's budget, checked before any upstream call. */
    async function admit(): Promise<void> {
      if (caller.kind === 'anonymous') throw serviceAuthorize ? missingJwt() : missingToken();
      const retryAfterMs = await rateLimiter.take(caller.key);
      if (retryAfterMs !== undefined) {
        throw new FacadeError('RATE_LIMITED', `Too many device reads from this caller; try again in ${retryAfterMs} ms`, undefined, {
          extensions: { retryAfterMs },
        });
      }
    }

    /** A call to Flatpeak on this request's behalf; `callSignal` is a shared call's own. */
    function upstream<T>(call: (options: CallOptions) => Promise<T>, callSignal = signal): Promise<T> {
      return slots.execute(() => authorize((token) => call({ token, requestId, traceContext, signal: callSignal, deadlineAt }), callSignal));
    }

    // Whose answers may be shared: those fetched with the same Flatpeak credential.
    const credential = caller.kind === 'flatpeak' ? caller.key : 'service';
    const freshness = { maxAgeMs: Number.POSITIVE_INFINITY };

    const device = createDeviceLoader(
      async (id) => {
        await admit();
        let found: Device;
        try {
          const read = await devices.read(credential, id, signal, (shared) => upstream((options) => client.getDevice(id, options), shared));
          found = read.device;
          freshness.maxAgeMs = Math.min(freshness.maxAgeMs, read.maxAgeMs);
        } catch (error) {
          throw error instanceof FacadeError && error.code === 'NOT_FOUND' ? deviceNotFound(id) : error;
        }
        if (!mayRead(caller, found)) {
          logger.info({ requestId, caller: caller.key, device: id }, 'device access denied');
          throw deviceNotFound(id);
        }
        return found;
      },
      { maxDevices: maxDevicesPerRequest },
    );

    return {
      requestId,
      caller,
      loaders: { device },
      freshness,
      async listDevices(query) {
        await admit();
        freshness.maxAgeMs = 0; // a listing is not cached
        return upstream((options) => client.listDevices(query, options));
      },
    };
  };
}
