import type { Context as TraceContext } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { errors as undiciErrors } from 'undici';
import type { z } from 'zod';
import { FacadeError, type UpstreamDetails } from '../errors.ts';
import type { GiveUpSignal } from '../request/lifetime.ts';
import type { AttemptSpan, UpstreamTracing } from '../telemetry/upstream-spans.ts';
import { type Answer, EXCHANGE_TIMED_OUT, exchange } from './exchange.ts';
import { directPolicy, type UpstreamPolicy } from './resilience.ts';
import * as rest from './types.ts';

/** Until when a call may take: the GraphQL request's deadline (or the login's own). */
export interface Deadline {
  readonly signal: GiveUpSignal;
  /** Epoch ms at which `signal` aborts. */
  readonly deadlineAt: number;
  /** The GraphQL request the call is for: the unit of fairness while calls wait for a slot. */
  readonly owner?: object;
  /** The span of the GraphQL operation the call is made for, when tracing is on. */
  readonly traceContext?: TraceContext | undefined;
}

/** Per-call context: whose token, on behalf of which request, until when. */
export interface CallOptions extends Deadline {
  readonly token: string;
  readonly requestId?: string | undefined;
}

/** `GET /devices` parameters: Flatpeak's cursor pagination, newest first. */
export interface DeviceListQuery {
  readonly limit: number;
  /** The last device id of the previous page. */
  readonly startingAfter?: string | undefined;
  readonly referenceId?: string | undefined;
}

export interface DevicePage {
  readonly hasMore: boolean;
  /** In Flatpeak's order; an item Flatpeak sent in an unexpected shape is its error. */
  readonly items: ReadonlyArray<rest.Device | FacadeError>;
}

/** A write's own header: Flatpeak (or a proxy in front of it) may answer a repeated key with the first answer. */
export interface WriteOptions extends CallOptions {
  readonly idempotencyKey?: string | undefined;
}

export interface FlatpeakClient {
  getDevice(id: string, call: CallOptions): Promise<rest.Device>;
  /** `POST /devices`. Not retried once it may have reached Flatpeak. */
  createDevice(body: rest.DeviceWrite, call: WriteOptions): Promise<rest.Device>;
  /** `PATCH /devices/{id}` with a partial body (Flatpeak wants at least `reference_id`). */
  updateDevice(id: string, body: rest.DeviceWrite, call: WriteOptions): Promise<rest.Device>;
  listDevices(query: DeviceListQuery, call: CallOptions): Promise<DevicePage>;
  login(accountId: string, apiKey: string, deadline: Deadline): Promise<rest.Login>;
  /** The HTTP status of a cheap authenticated read (`GET /devices?limit=1`), for the status page. */
  probe(token: string | undefined, signal: AbortSignal): Promise<number>;
}

export interface FlatpeakClientOptions {
  readonly baseUrl: URL;
  readonly dispatcher: Dispatcher;
  /** Timeouts, retries, circuit breaker, backpressure; none by default (unit tests). */
  readonly policy?: UpstreamPolicy;
  /** Bodies larger than this are refused rather than buffered. */
  readonly maxBodyBytes?: number;
  /** A client span per attempt, and `traceparent` sent with it; none when tracing is off. */
  readonly tracing?: UpstreamTracing | undefined;
}

const USER_AGENT = 'flatpeak-graph/0.1';

/** One exchange: where, what shape to expect, how to name it in errors, with which headers. */
interface Resource<S extends z.ZodType> {
  readonly path: string;
  /** The path with ids as placeholders, naming the call in traces. */
  readonly template: string;
  readonly schema: S;
  readonly what: string;
  readonly headers: Record<string, string>;
  /** GET unless said otherwise; a body is sent as JSON. */
  readonly method?: 'GET' | 'POST' | 'PATCH';
  readonly body?: unknown;
}

/**
 * The typed REST client: the only module that speaks HTTP to Flatpeak. Every failure leaves
 * it as a FacadeError whose code says what went wrong, never as a raw undici or zod error.
 */
export function createFlatpeakClient({
  baseUrl,
  dispatcher,
  policy = directPolicy,
  maxBodyBytes = 1 << 20,
  tracing,
}: FlatpeakClientOptions): FlatpeakClient {
  const origin = baseUrl.origin;
  const basePath = baseUrl.pathname.replace(/\/+$/, '');

  /** Through the policy; a write (`idempotent: false`) is retried only if it never left. */
  function send<S extends z.ZodType>(resource: Resource<S>, deadline: Deadline, idempotent = true): Promise<z.output<S>> {
    const call = { ...deadline, what: resource.what, ...(idempotent ? {} : { idempotent: false }) };
    if (!tracing) return policy.run((signal, timeoutMs) => attempt(resource, signal, timeoutMs), call);
    let resendCount = 0;
    const url = new URL(origin + basePath + resource.path.replace(/\?.*$/, ''));
    return policy.run(async (signal, timeoutMs) => {
      const span = tracing(
        { method: resource.method ?? 'GET', url, template: resource.template, resendCount: resendCount++ },
        deadline.traceContext,
      );
      try {
        const value = await attempt(resource, signal, timeoutMs, span);
        span.end();
        return value;
      } catch (error) {
        span.end(error);
        throw error;
      }
    }, call);
  }
  const get = <S extends z.ZodType>(resource: Resource<S>, deadline: Deadline) => send(resource, deadline);
  const write = <S extends z.ZodType>(resource: Resource<S>, deadline: Deadline) => send(resource, deadline, false);

  /**
   * One HTTP exchange; every failure leaves as a FacadeError. Not an async function: it runs
   * once per device, and the exchange's own promise, followed once, is all it needs.
   */
  function attempt<S extends z.ZodType>(
    { path, schema, what, headers, method = 'GET', body }: Resource<S>,
    signal: GiveUpSignal,
    timeoutMs: number,
    span?: AttemptSpan,
  ): Promise<z.output<S>> {
    return exchange(
      dispatcher,
      {
        origin,
        path: basePath + path,
        method,
        headers: requestHeaders(headers, body !== undefined, span),
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      { signal, timeoutMs, maxBodyBytes, onStatus: span && ((status) => span.responded(status)) },
    ).then(
      (answer) => answerOf(answer, schema, what),
      (error: unknown) => {
        throw transportError(error, what, signal);
      },
    );
  }

  /** What Flatpeak answered, validated, or the FacadeError that says what is wrong with it. */
  function answerOf<S extends z.ZodType>({ statusCode, text, headers }: Answer, schema: S, what: string): z.output<S> {
    const ok = statusCode >= 200 && statusCode < 300;
    // The status decides first: a 503 with a huge HTML page is still a 503 (retried,
    // counted by the breaker), not a bad response.
    if (!ok) {
      const refusal = parseErrorBody(text ?? '');
      throw statusError(statusCode, refusal.code, what, retryAfterMs(headers['retry-after']), refusal.message);
    }
    if (text === undefined) {
      throw new FacadeError('UPSTREAM_BAD_RESPONSE', `Flatpeak sent a response for ${what} larger than ${maxBodyBytes} bytes`, {
        status: statusCode,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new FacadeError(
        'UPSTREAM_BAD_RESPONSE',
        `Flatpeak sent a response for ${what} that is not JSON`,
        { status: statusCode },
        { cause: error },
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new FacadeError(
        'UPSTREAM_BAD_RESPONSE',
        `Flatpeak sent ${what} in an unexpected shape`,
        { status: statusCode },
        { cause: parsed.error, received: json },
      );
    }
    return parsed.data;
  }

  return {
    getDevice(id, call) {
      return get(
        {
          path: `/devices/${encodeURIComponent(id)}`,
          template: '/devices/{id}',
          schema: rest.device,
          what: `device ${id}`,
          headers: bearer(call),
        },
        call,
      );
    },
    createDevice(body, call) {
      return write(
        {
          path: '/devices',
          template: '/devices',
          method: 'POST',
          body,
          schema: rest.device,
          what: 'the new device',
          headers: writeHeaders(call),
        },
        call,
      );
    },
    updateDevice(id, body, call) {
      const path = `/devices/${encodeURIComponent(id)}`;
      return write(
        { path, template: '/devices/{id}', method: 'PATCH', body, schema: rest.device, what: `device ${id}`, headers: writeHeaders(call) },
        call,
      );
    },
    async listDevices({ limit, startingAfter, referenceId }, call) {
      const params = new URLSearchParams({ limit: String(limit) });
      if (startingAfter) params.set('starting_after', startingAfter);
      if (referenceId !== undefined) params.set('reference_id', referenceId);
      const page = await get(
        { path: `/devices?${params}`, template: '/devices', schema: rest.devicePage, what: 'the device list', headers: bearer(call) },
        call,
      );
      return {
        hasMore: page.has_more,
        items: page.data.map((item, index) => {
          const parsed = rest.device.safeParse(item);
          return parsed.success
            ? parsed.data
            : new FacadeError(
                'UPSTREAM_BAD_RESPONSE',
                `Flatpeak sent item ${index} of the device list in an unexpected shape`,
                { status: 200 },
                { cause: parsed.error },
              );
        }),
      };
    },
    login(accountId, apiKey, deadline) {
      const basic = Buffer.from(`${accountId}:${apiKey}`).toString('base64');
      return get(
        { path: '/login', template: '/login', schema: rest.login, what: 'the login', headers: { authorization: `Basic ${basic}` } },
        deadline,
      );
    },
    async probe(token, signal) {
      // Straight to the dispatcher: the status reports what Flatpeak does now, not what the
      // breaker remembers, and is not retried.
      const response = await dispatcher.request({
        origin,
        path: `${basePath}/devices?limit=1`,
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': USER_AGENT, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal,
      });
      await response.body.dump();
      return response.statusCode;
    },
  };
}

function bearer(call: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${call.token}` };
  if (call.requestId) headers['x-request-id'] = call.requestId;
  return headers;
}

function writeHeaders(call: WriteOptions): Record<string, string> {
  const headers = bearer(call);
  if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
  return headers;
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Every request's headers, in one object (an upstream call is made per device). */
function requestHeaders(own: Record<string, string>, json: boolean, span: AttemptSpan | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (json) headers['content-type'] = 'application/json';
  Object.assign(headers, own);
  if (span) Object.assign(headers, span.headers);
  return headers;
}

function parseErrorBody(text: string): { code?: string | undefined; message?: string | undefined } {
  try {
    const parsed = rest.errorBody.safeParse(JSON.parse(text));
    return parsed.success ? { code: parsed.data.code, message: parsed.data.message?.slice(0, 300) } : {};
  } catch {
    return {}; // an HTML error page or an empty body: the status says enough
  }
}

/** Flatpeak's HTTP status (and its own error code) to the facade's error code. */
export function statusError(
  status: number,
  upstreamCode: string | undefined,
  what: string,
  retryAfter?: number,
  upstreamMessage?: string,
): FacadeError {
  const upstream: UpstreamDetails = upstreamCode ? { status, code: upstreamCode } : { status };
  if (status === 404) return new FacadeError('NOT_FOUND', `Flatpeak has no ${what}`, upstream, { upstreamMessage });
  if (status === 401) return new FacadeError('UNAUTHENTICATED', `Flatpeak did not accept the credentials for ${what}`, upstream);
  if (status === 403 || (status === 422 && upstreamCode === 'account_disabled')) {
    return new FacadeError('FORBIDDEN', `Flatpeak refused access to ${what}`, upstream);
  }
  if (status === 429) {
    return new FacadeError('RATE_LIMITED', `Flatpeak rate-limited the request for ${what}`, upstream, { retryAfterMs: retryAfter });
  }
  if (status >= 500) {
    return new FacadeError('UPSTREAM_UNAVAILABLE', `Flatpeak failed to serve ${what} (HTTP ${status})`, upstream, {
      retryAfterMs: retryAfter,
    });
  }
  // Flatpeak's own words are kept (server-side) for a refused write: they describe the caller's input.
  return new FacadeError('UPSTREAM_REJECTED', `Flatpeak rejected the request for ${what} (HTTP ${status})`, upstream, { upstreamMessage });
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function transportError(error: unknown, what: string, signal: GiveUpSignal): FacadeError {
  const code = (error as { code?: unknown } | null)?.code;
  if (error === EXCHANGE_TIMED_OUT || signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
    return new FacadeError('UPSTREAM_TIMEOUT', `Flatpeak did not answer in time for ${what}`, undefined, { cause: error });
  }
  if (error instanceof undiciErrors.RequestAbortedError) {
    return new FacadeError('UPSTREAM_TIMEOUT', `The call to Flatpeak for ${what} was cancelled`, undefined, { cause: error });
  }
  return new FacadeError('UPSTREAM_UNAVAILABLE', `Flatpeak could not be reached for ${what}`, undefined, { cause: error });
}
