import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Context as TraceContext } from '@opentelemetry/api';
import { bulkhead } from 'cockatiel';
import type DataLoader from 'dataloader';
import type { YogaInitialContext } from 'graphql-yoga';
import type { Authenticate } from './callers/authenticate.ts';
import type { Caller } from './callers/caller.ts';
import type { RateLimiter } from './callers/rate-limit.ts';
import { readAs } from './callers/read-as.ts';
import { FacadeError } from './errors.ts';
import { RequestLifetime } from './request-lifetime.ts';
import { createDeviceLoader } from './loaders/device.ts';
import { type LoadBudget, NO_LOAD_BUDGET } from './loaders/load-budget.ts';
import type { Logger } from './logger.ts';
import { type Authorize, authorizeWithCallerToken, authorizeWithService, type TokenSource } from './upstream/auth.ts';
import type { DeviceSource } from './upstream/device-source.ts';
import type { CallOptions, DeviceListQuery, DevicePage, FlatpeakClient } from './upstream/flatpeak.ts';
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
  /** One page of `GET /devices` (rate-limited like a device load); the caller's access is the resolver's to apply. */
  listDevices(query: DeviceListQuery): Promise<DevicePage>;
  /** How long the whole response may be kept by the client: the least of its devices' (0: not at all). */
  readonly freshness: { maxAgeMs: number };
  /** The response is complete: stop the request's timer and anything of it still running. */
  dispose(): void;
  /** Identity and the caller's budget (one unit), checked before upstream work that is not a device load. */
  admit(): Promise<void>;
  /**
   * `POST /devices` (no `id`) or `PATCH /devices/{id}` for this caller, who has been
   * authorized already. The request's loader and the shared cache then hold Flatpeak's answer.
   */
  writeDevice(write: { readonly id?: string; readonly body: DeviceWrite; readonly idempotencyKey?: string | undefined }): Promise<Device>;
  /** This caller's Flatpeak credential, for work that outlives the request (live pollers). */
  readonly upstreamCredential: UpstreamCredential;
  /** The live device pollers behind subscriptions, shared by every request. */
  readonly live: LiveDevices;
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

// A caller-supplied request id is kept for tracing across services, but only if it is
// short and plain: it is copied into upstream headers and log lines.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const missingToken = () =>
  new FacadeError('UNAUTHENTICATED', 'Send your Flatpeak bearer token in the Authorization header (Authorization: Bearer <token>)');

const missingJwt = () => new FacadeError('UNAUTHENTICATED', 'Sign in: send your token in the Authorization header (Authorization: Bearer <JWT>)');

const tooManyLoads = (id: string) =>
  new FacadeError('UPSTREAM_OVERLOADED', `Too many device loads are waiting in this instance; ${id} was not loaded. Try again shortly`);

type ServerContext = { req?: { socket?: { remoteAddress?: string } }; res?: ServerResponse };

/**
 * Calls `gone` when the client closes the connection before its answer is complete; returns
 * how to stop watching. On Node the response's own `close` event says so: the request's
 * AbortSignal would cost a native AbortController per request, which nothing else asks for.
 */
function whenClientGone({ request, res }: { request: Request; res?: ServerResponse | undefined }, gone: () => void): () => void {
  if (!res) {
    if (request.signal.aborted) return goneAlready(gone);
    request.signal.addEventListener('abort', gone, { once: true });
    return () => request.signal.removeEventListener('abort', gone);
  }
  // A pipelined request starts only once the answer before it is complete
  // (src/http/admission.ts), so its response has the connection, and 'close' comes.
  if (res.destroyed && !res.writableFinished) return goneAlready(gone);
  const closed = () => {
    if (!res.writableFinished) gone();
  };
  res.once('close', closed);
  return () => res.removeListener('close', closed);
}

// Gone before the context was made (while the token was verified, or the request waited for
// its turn): no event is still to come, and the request would call Flatpeak for nobody.
function goneAlready(gone: () => void): () => void {
  gone();
  return () => {};
}

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
    // One lifetime and one timer, both let go when the request ends (`dispose`):
    // AbortSignal.any and AbortSignal.timeout cost a tenth of a small request.
    const lifetime = new RequestLifetime();
    const stopWatching = whenClientGone(initial, () => lifetime.end(CLIENT_GONE));
    const deadline = setTimeout(() => lifetime.end(DEADLINE_PASSED), requestDeadlineMs);
    let ownCalls = 0;
    // A request waits for its own slots before it joins the shared upstream queue, so one
    // document of many devices cannot push every other caller's calls behind its own.
    // Made on the first call: most small requests only join calls already in flight.
    let slots: ReturnType<typeof bulkhead> | undefined;

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

    /** A call to Flatpeak on this request's behalf; `shared` is a shared call's own signal. */
    function upstream<T>(call: (options: CallOptions) => Promise<T>, shared?: AbortSignal): Promise<T> {
      const callSignal = shared ?? lifetime.signal;
      // A few listeners per pending call: a 100-device request is not a leak. Only set once
      // a request has several calls of its own; it costs a small request about 1 %.
      if (!shared && ++ownCalls === 3) setMaxListeners(0, callSignal);
      const owner = (slots ??= bulkhead(maxCallsPerRequest, Number.POSITIVE_INFINITY));
      return owner.execute(() => authorize((token) => call({ token, requestId, traceContext, signal: callSignal, deadlineAt, owner }), callSignal));
    }

    // Whose answers may be shared: those fetched with the same Flatpeak credential.
    const credential = caller.kind === 'flatpeak' ? caller.key : 'service';
    const freshness = { maxAgeMs: Number.POSITIVE_INFINITY };

    // Device loads this request holds of the process's budget, all given back when it ends.
    let held = 0;
    const giveBack = () => {
      loadBudget.give(held);
      held = 0;
    };

    const device = createDeviceLoader(
      async (id) => {
        // An ended request's loads give up anyway, and nothing would give this one back.
        if (!lifetime.aborted) {
          if (!loadBudget.take()) throw tooManyLoads(id);
          if (held++ === 0) lifetime.addEventListener('abort', giveBack);
        }
        await admit();
        return readAs(
          caller,
          id,
          async () => {
            const read = await devices.read(credential, id, lifetime, (shared) => upstream((options) => client.getDevice(id, options), shared));
            freshness.maxAgeMs = Math.min(freshness.maxAgeMs, read.maxAgeMs);
            return read.device;
          },
          { logger, requestId },
        );
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
          id === undefined ? client.createDevice(body, { ...options, idempotencyKey }) : client.updateDevice(id, body, { ...options, idempotencyKey }),
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
