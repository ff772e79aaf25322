import type { ExecutionResult } from 'graphql';
import { Agent, request } from 'undici';
import { FacadeError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { Logger } from '../logger.ts';

/**
 * Apollo's HTTP callback protocol for subgraph subscriptions (callback/1.0): what the
 * router asked for in the request's `extensions.subscription`.
 */
export interface CallbackTarget {
  readonly callbackUrl: URL;
  readonly subscriptionId: string;
  readonly verifier: string;
  /** A `check` is sent at least this often while the subscription lives; 0: none. */
  readonly heartbeatIntervalMs: number;
}

const PROTOCOL_HEADER = 'subscription-protocol';
const PROTOCOL = 'callback/1.0';
const MAX_ID_LENGTH = 256;
const MAX_VERIFIER_LENGTH = 1_024;
const MAX_HEARTBEAT_MS = 86_400_000;

const badCallback = (message: string) => new FacadeError('BAD_USER_INPUT', message, undefined, { http: { status: 400 } });

/**
 * Reads the router's `subscription` extension. The callback URL must start with one of
 * `allowed` (SUBSCRIPTION_CALLBACK_URLS): every callback is a request this service makes,
 * and without the list anyone who can send a subscription could make it call any address
 * (cloud metadata, internal admin ports). None listed: callbacks are refused.
 */
export function readCallbackTarget(extension: unknown, allowed: readonly URL[]): CallbackTarget {
  if (typeof extension !== 'object' || extension === null) throw badCallback('extensions.subscription must be an object');
  const { callbackUrl, subscriptionId, verifier, heartbeatIntervalMs = 5_000 } = extension as Record<string, unknown>;
  if (typeof subscriptionId !== 'string' || subscriptionId.length === 0 || subscriptionId.length > MAX_ID_LENGTH) {
    throw badCallback(`extensions.subscription.subscriptionId must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
  if (typeof verifier !== 'string' || verifier.length > MAX_VERIFIER_LENGTH) {
    throw badCallback(`extensions.subscription.verifier must be a string of at most ${MAX_VERIFIER_LENGTH} characters`);
  }
  const minimum = LIMITS.callbackHeartbeatMs.value;
  if (
    typeof heartbeatIntervalMs !== 'number' ||
    !Number.isInteger(heartbeatIntervalMs) ||
    (heartbeatIntervalMs !== 0 && (heartbeatIntervalMs < minimum || heartbeatIntervalMs > MAX_HEARTBEAT_MS))
  ) {
    throw badCallback(`extensions.subscription.heartbeatIntervalMs must be 0 (none) or an integer from ${minimum} to ${MAX_HEARTBEAT_MS}`);
  }
  if (allowed.length === 0) {
    throw new FacadeError(
      'FORBIDDEN',
      'Callback subscriptions are not enabled on this service (SUBSCRIPTION_CALLBACK_URLS); subscribe over WebSocket, SSE or multipart',
      undefined,
      { http: { status: 400 } },
    );
  }
  const url = typeof callbackUrl === 'string' && URL.canParse(callbackUrl) ? new URL(callbackUrl) : undefined;
  // Parsed, so that `..`, encoded dots and default ports are resolved before the comparison.
  if (!url || !isAllowed(url, allowed)) {
    throw new FacadeError('FORBIDDEN', 'extensions.subscription.callbackUrl is not an address this service may call', undefined, {
      http: { status: 400 },
    });
  }
  return { callbackUrl: url, subscriptionId, verifier, heartbeatIntervalMs };
}

function isAllowed(url: URL, allowed: readonly URL[]): boolean {
  if (url.username !== '' || url.password !== '' || !/^https?:$/.test(url.protocol)) return false;
  return allowed.some((prefix) => url.origin === prefix.origin && url.pathname.startsWith(prefix.pathname));
}

export interface CallbackEmitter {
  /**
   * The synchronous `check` before the router's request is answered: resolves if the
   * router answered 204, throws FacadeError otherwise (the subscription is then refused).
   */
  check(target: CallbackTarget): Promise<void>;
  /**
   * Sends each event as `next`, a `check` every heartbeatIntervalMs, and `complete` at
   * the end (with the errors of a stream that ended with them). A router that answers an
   * error (404: it has ended the subscription) or cannot be reached ends the subscription:
   * `end` is aborted, which lets go of its watch.
   */
  run(target: CallbackTarget, events: AsyncIterable<ExecutionResult>, end: AbortController): void;
  /** SIGTERM: resolves once every subscription has sent its `complete` (or after `graceMs`), then closes the pool. */
  close(graceMs: number): Promise<void>;
  readonly open: number;
}

type Message =
  { action: 'check' } | { action: 'next'; payload: ExecutionResult } | { action: 'complete'; errors?: ExecutionResult['errors'] };

/**
 * Posts the callback messages, over a connection pool of its own (bounded, with tight
 * timeouts, no redirects followed): routers are not Flatpeak, and a slow router must not
 * take connections or time from the upstream calls.
 */
export function createCallbackEmitter({
  logger,
  timeoutMs,
  maxConnections = 32,
  onOpen = () => {},
}: {
  logger: Logger;
  /** One callback request, from connecting to the router's answer. */
  timeoutMs: number;
  maxConnections?: number;
  onOpen?: (open: number) => void;
}): CallbackEmitter {
  const pool = new Agent({
    connections: maxConnections,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    pipelining: 1,
  });
  const running = new Set<Promise<void>>();

  /** The router's status for one message; 0 when it could not be reached. */
  async function post(target: CallbackTarget, message: Message): Promise<number> {
    try {
      const response = await request(target.callbackUrl, {
        method: 'POST',
        dispatcher: pool,
        headers: { 'content-type': 'application/json', [PROTOCOL_HEADER]: PROTOCOL },
        body: JSON.stringify({ kind: 'subscription', id: target.subscriptionId, verifier: target.verifier, ...message }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      return response.statusCode;
    } catch (error) {
      logger.debug({ err: { message: (error as Error).message }, subscription: target.subscriptionId }, 'callback not delivered');
      return 0;
    }
  }

  async function pump(target: CallbackTarget, events: AsyncIterable<ExecutionResult>, end: AbortController): Promise<void> {
    let ended = false; // by the router, or because it cannot be reached: nothing more is sent
    const stop = (status: number, action: string) => {
      if (ended) return;
      ended = true;
      logger.info({ subscription: target.subscriptionId, status, action }, 'callback subscription ended by the router');
      end.abort();
    };
    const heartbeat =
      target.heartbeatIntervalMs > 0
        ? setInterval(() => {
            void post(target, { action: 'check' }).then((status) => {
              if (status !== 204) stop(status, 'check');
            });
          }, target.heartbeatIntervalMs)
        : undefined;
    heartbeat?.unref();
    let errors: ExecutionResult['errors'];
    try {
      for await (const result of events) {
        if (ended) break;
        // Every stream of this service ends with its error as its last event (SHUTTING_DOWN,
        // NOT_FOUND, failed polls): the protocol says that with `complete`.
        if (result.errors?.length && (result.data === null || result.data === undefined)) {
          errors = result.errors;
          break;
        }
        const status = await post(target, { action: 'next', payload: result });
        if (status < 200 || status > 299) stop(status, 'next');
      }
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message }, subscription: target.subscriptionId }, 'callback subscription failed');
      errors = [new FacadeError('UPSTREAM_UNAVAILABLE', 'The subscription failed')];
    } finally {
      clearInterval(heartbeat);
    }
    if (!ended) await post(target, errors ? { action: 'complete', errors } : { action: 'complete' });
  }

  return {
    async check(target) {
      const status = await post(target, { action: 'check' });
      if (status !== 204) {
        throw new FacadeError(
          'FORBIDDEN',
          status === 0
            ? 'The callback URL could not be reached; the subscription was not started'
            : `The callback URL answered the check with HTTP ${status}, not 204; the subscription was not started`,
          undefined,
          { http: { status: 400 } },
        );
      }
    },
    run(target, events, end) {
      const done = pump(target, events, end).finally(() => {
        running.delete(done);
        onOpen(running.size);
      });
      running.add(done);
      onOpen(running.size);
    },
    async close(graceMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      await pool.destroy();
    },
    get open() {
      return running.size;
    },
  };
}
