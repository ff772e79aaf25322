import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { bulkhead } from 'cockatiel';
import type DataLoader from 'dataloader';
import type { YogaInitialContext } from 'graphql-yoga';
import { FacadeError } from './errors.ts';
import { createDeviceLoader } from './loaders/device.ts';
import { authorizeWithCallerToken, authorizeWithService, type TokenSource } from './upstream/auth.ts';
import type { FlatpeakClient } from './upstream/flatpeak.ts';
import type { Device } from './upstream/types.ts';

export interface Loaders {
  readonly device: DataLoader<string, Device>;
}

export interface Context {
  readonly requestId: string;
  readonly loaders: Loaders;
}

export interface ContextDependencies {
  readonly client: FlatpeakClient;
  /** Set in service-credentials mode; otherwise each caller's bearer token is passed through. */
  readonly serviceToken: TokenSource | undefined;
  /** Every upstream wait of the request ends by then. */
  readonly requestDeadlineMs: number;
  /** Distinct devices one request may load. */
  readonly maxDevicesPerRequest: number;
  /** Upstream calls one request may have in flight or in the shared queue at once. */
  readonly maxCallsPerRequest: number;
}

// A caller-supplied request id is kept for tracing across services, but only if it is
// short and plain: it is copied into upstream headers and log lines.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const missingToken = () =>
  new FacadeError('UNAUTHENTICATED', 'Send your Flatpeak bearer token in the Authorization header (Authorization: Bearer <token>)');

/**
 * Builds the context of one GraphQL request. Everything here lives for that request
 * only: its loader cache never serves another caller, whose token may differ.
 */
export function createContextFactory({
  client,
  serviceToken,
  requestDeadlineMs,
  maxDevicesPerRequest,
  maxCallsPerRequest,
}: ContextDependencies) {
  const serviceAuthorize = serviceToken ? authorizeWithService(serviceToken) : undefined;

  return ({ request }: YogaInitialContext): Context => {
    const incoming = request.headers.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const authorize = serviceAuthorize ?? authorizeWithCallerToken(request.headers.get('authorization'), missingToken);
    // Aborts at the deadline or when the client goes away: in-flight upstream calls of this
    // request are then cancelled, and its unfinished items answer UPSTREAM_TIMEOUT.
    const deadlineAt = Date.now() + requestDeadlineMs;
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(requestDeadlineMs)]);
    // One listener per pending item: a 100-device request is not a leak.
    setMaxListeners(0, signal);
    // A request waits for its own slots before it joins the shared upstream queue, so one
    // document of many devices cannot push every other caller's calls behind its own.
    const slots = bulkhead(maxCallsPerRequest, Number.POSITIVE_INFINITY);

    const device = createDeviceLoader(
      (id) =>
        slots.execute(() =>
          authorize((token) => client.getDevice(id, { token, requestId, signal, deadlineAt }), signal),
        ),
      { maxDevices: maxDevicesPerRequest },
    );
    return { requestId, loaders: { device } };
  };
}
