import { z } from 'zod';
import type { ResilienceSettings } from './upstream/resilience.ts';
import { DEFAULT_MANIFEST_PATH, type PersistedManifest, readManifest } from './persisted/manifest.ts';
import type { DocumentCacheSettings } from './plugins/document/use-document-cache.ts';
import { LIMITS } from './limits.ts';

const MB = 1024 * 1024;

/**
 * Every setting the service reads from its environment, validated once at start-up.
 * Nothing else in `src/` reads `process.env`.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Where `/metrics` is served, on `host`: a port of its own, never the app's; undefined: not at all. */
  readonly metricsPort: number | undefined;
  readonly logLevel: LogLevel;
  /** Where Flatpeak's API is: always given (the sample-data stand-in is started by tools/dev.ts, never by the service). */
  readonly flatpeakApiUrl: URL;
  /**
   * FLATPEAK_STANDIN: the URL is the development stand-in's (tools/dev.ts says so), which
   * serves sample data; `/status`, `/metrics` and the start-up line tell. Never in production.
   */
  readonly standin: boolean;
  /** Service credentials; unset means pass the caller's bearer token through. */
  readonly serviceCredentials: ServiceCredentials | undefined;
  readonly upstream: UpstreamSettings;
  /** Every GraphQL request answers within this, whatever Flatpeak does. */
  readonly requestDeadlineMs: number;
  /** Browser origins allowed to call the service cross-origin; none by default. */
  readonly corsOrigins: readonly string[];
  /** Distinct devices one GraphQL request may load (aliases multiply what a document asks for). */
  readonly maxDevicesPerRequest: number;
  /** GraphQL operations worked on at once (open subscriptions aside); more are answered 503 `OVERLOADED`. */
  readonly maxRequestsInFlight: number;
  /** Device loads of all requests at once; more fail at once with `UPSTREAM_OVERLOADED`. */
  readonly maxDeviceLoadsInFlight: number;
  /** `/status` and `/metrics` probe Flatpeak at most this often. */
  readonly flatpeakProbeIntervalMs: number;
  /** After SIGTERM, how long to stay up (unready) before closing the listener. */
  readonly shutdownDelayMs: number;
  /** After the listener closes, in-flight requests get this long to finish. */
  readonly shutdownGraceMs: number;
  readonly persistedOperations: PersistedOperationsSettings;
  /** Who the callers are and how the service knows them. */
  readonly callers: CallerSettings;
  /** The Redis that replicas share (device cache, APQ registrations, rate limits); unset: all in process. */
  readonly redisUrl: URL | undefined;
  /** Flatpeak's device answers kept per credential; `ttlMs` 0 turns the cache off. */
  readonly deviceCache: { readonly ttlMs: number; readonly staleMs: number };
  /** Per-caller token bucket, counted in upstream device loads; `perSecond` 0 turns it off. */
  readonly rateLimit: RateLimitSettings;
  /** Operations that introspect (`__schema`, `__type`), per caller (INTROSPECTION_PER_MINUTE; perSecond 0: no limit). */
  readonly introspectionLimit: RateLimitSettings;
  /** `deviceUpdated`: how often watched devices are polled, and how many streams may be open. */
  readonly subscriptions: SubscriptionSettings;
  /** OpenTelemetry traces; off (no spans, nothing sent) without an OTLP endpoint. */
  readonly tracing: TracingSettings;
  /** Parsed and validated documents kept for reuse (DOCUMENT_CACHE_MB). */
  readonly documentCache: DocumentCacheSettings;
  /** ftv1 traces for the routers that ask (FTV1_TRACES): resolver timings, for trusted routers only. */
  readonly federatedTraces: boolean;
  /** `_service.sdl` without @authenticated/@requiresScopes (SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES), for Apollo Gateway. */
  readonly omitSecurityDirectives: boolean;
}

export interface SubscriptionSettings {
  readonly pollIntervalMs: number;
  /** Failed polls in a row after which a device's subscriptions end with the error. */
  readonly maxErrors: number;
  readonly maxPerCaller: number;
  readonly maxTotal: number;
  /** graphql-transport-ws connections this instance holds open at once. */
  readonly maxWebSockets: number;
  /** A WebSocket is pinged this often; one that has not answered the previous ping by then is closed. */
  readonly webSocketKeepAliveMs: number;
  /**
   * Where Apollo's HTTP callback protocol may send events: URL prefixes (origin and path).
   * None: callback subscriptions are refused (a callback URL is a request this service makes).
   */
  readonly callbackUrls: readonly URL[];
}

/** The samplers of the OpenTelemetry specification (OTEL_TRACES_SAMPLER). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

export interface TracingSettings {
  /** Where spans are sent (OTLP over HTTP); unset: tracing off. */
  readonly tracesUrl: URL | undefined;
  readonly serviceName: string;
  readonly sampler: TraceSampler;
  /** For the ratio samplers: the share of traces recorded. */
  readonly samplerRatio: number;
}

export const CALLER_AUTH_MODES = ['jwt', 'none'] as const;

/** Asymmetric only: with a public JWKS, an HMAC "key" would be public too. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface JwtSettings {
  readonly jwksUrl: URL;
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly JwtAlgorithm[];
  /** A token with an unknown key id refetches the key set at most this often. */
  readonly jwksCooldownMs: number;
  /** Leeway for `exp` and `nbf`, in seconds: the identity provider's clock and ours drift a little. */
  readonly clockToleranceS: number;
}

/**
 * - `jwt`: callers send a JWT from the company's identity provider; each device read is
 *   checked against its claims.
 * - `none`: callers are not identified and read every device of the account (a service
 *   only the router can reach, or the development stand-in).
 * - `pass-through`: no service credentials; each caller's own Flatpeak token is its identity.
 */
export type CallerSettings =
  | { readonly mode: 'jwt'; readonly jwt: JwtSettings; readonly referenceClaim: string; readonly locationsClaim: string | undefined }
  | { readonly mode: 'none' | 'pass-through' };

export interface RateLimitSettings {
  readonly perSecond: number;
  readonly burst: number;
}

export interface ServiceCredentials {
  readonly accountId: string;
  readonly apiKey: string;
}

export interface UpstreamSettings extends ResilienceSettings {
  /** Upstream calls one GraphQL request may have in flight or queued at once. */
  readonly maxCallsPerRequest: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

export const PERSISTED_OPERATIONS_MODES = ['off', 'allow', 'require'] as const;
export type PersistedOperationsMode = (typeof PERSISTED_OPERATIONS_MODES)[number];

export interface PersistedOperationsSettings {
  /** off: documents only; allow: documents or hashes (manifest, APQ); require: manifest hashes only. */
  readonly mode: PersistedOperationsMode;
  readonly manifestPath: string;
  /** Empty in `off` mode, where the manifest is not read. */
  readonly manifest: PersistedManifest;
  /** Heap that APQ registrations may take (APQ_CACHE_MB). */
  readonly apqCacheBytes: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const integer = (min: number, max: number, fallback: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }).default(fallback);
};
const milliseconds = (fallback: number) => integer(1, 600_000, fallback);
const decimal = (min: number, max: number, fallback: number, error = `must be a number from ${min} to ${max}`) =>
  z.coerce.number({ error }).min(min, { error }).max(max, { error }).default(fallback);

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** An http(s) URL that is https unless it points at this machine: tokens and keys travel to it. */
const secureUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((value) => new URL(value))
  .refine((url) => url.protocol === 'https:' || LOOPBACK.test(url.hostname), {
    error: 'must be https unless it points at this machine (localhost, 127.x.x.x, [::1])',
  });

const otlpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((value) => new URL(value));

/** `NODE_ENV=production` (the image and the manifests set it): a real Flatpeak only, never the stand-in. */
const PRODUCTION = 'production';

const claimName = z.string().regex(/^[A-Za-z0-9_:./-]{1,100}$/, 'must be a claim name (letters, digits, _:./-)');

// Values of the secret variables are never echoed back in an error message.
const SECRET = new Set(['FLATPEAK_API_KEY']);

/** Every variable the service reads; `config-descriptions.ts` says what each means (docs/configuration.md). */
export const envSchema = z.object({
  PORT: integer(0, 65_535, 4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z
    .string()
    .default('9464')
    .transform((value) => (value.trim().toLowerCase() === 'off' ? 0 : Number(value.trim() === '' ? Number.NaN : value)))
    .pipe(
      z
        .number({ error: 'must be off, 0 (off) or a port from 1 to 65535' })
        .int({ error: 'must be off, 0 (off) or a port from 1 to 65535' })
        .min(0, { error: 'must be off, 0 (off) or a port from 1 to 65535' })
        .max(65_535, { error: 'must be off, 0 (off) or a port from 1 to 65535' }),
    ),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  NODE_ENV: z.string().max(100).optional(),
  FLATPEAK_API_URL: secureUrl.optional(),
  FLATPEAK_STANDIN: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  FLATPEAK_ACCOUNT_ID: z
    .string()
    .regex(/^acc_[A-Za-z0-9]+$/, 'must look like acc_…')
    .optional(),
  FLATPEAK_API_KEY: z.string().min(1).optional(),
  FLATPEAK_CONNECT_TIMEOUT_MS: milliseconds(2_000),
  FLATPEAK_HEADERS_TIMEOUT_MS: milliseconds(5_000),
  FLATPEAK_BODY_TIMEOUT_MS: milliseconds(5_000),
  FLATPEAK_KEEP_ALIVE_TIMEOUT_MS: milliseconds(30_000),
  FLATPEAK_MAX_CONNECTIONS: integer(1, 4_096, 256),
  FLATPEAK_MAX_QUEUE: integer(0, 100_000, 4_096),
  FLATPEAK_MAX_CALLS_PER_REQUEST: integer(1, 4_096, 64),
  FLATPEAK_ATTEMPT_TIMEOUT_MS: milliseconds(4_000),
  FLATPEAK_MAX_RETRIES: integer(0, 10, 2),
  FLATPEAK_RETRY_BUDGET_RATIO: decimal(0, 1, 0.2),
  FLATPEAK_BREAKER_FAILURE_RATIO: z.coerce
    .number({ error: 'must be a number above 0 and below 1' })
    .gt(0, { error: 'must be a number above 0 and below 1' })
    .lt(1, { error: 'must be a number above 0 and below 1' })
    .default(0.5),
  FLATPEAK_BREAKER_WINDOW_MS: milliseconds(10_000),
  FLATPEAK_BREAKER_MIN_CALLS: integer(1, 1_000_000, 20),
  FLATPEAK_BREAKER_OUTAGE_FAILURES: integer(1, 1_000_000, 50),
  FLATPEAK_BREAKER_OUTAGE_MS: milliseconds(1_000),
  FLATPEAK_BREAKER_COOLDOWN_MS: milliseconds(5_000),
  REQUEST_DEADLINE_MS: milliseconds(10_000),
  MAX_DEVICES_PER_REQUEST: integer(1, 100_000, 200),
  MAX_REQUESTS_IN_FLIGHT: integer(1, 1_000_000, 1_024),
  MAX_DEVICE_LOADS_IN_FLIGHT: integer(1, 10_000_000, 16_384),
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .refine((origins) => origins.every((origin) => /^https?:\/\/[^/\s]+$/.test(origin)), {
      error: 'must be a comma-separated list of origins such as https://app.example.com',
    })
    .default([]),
  FLATPEAK_PROBE_INTERVAL_MS: milliseconds(5_000),
  SHUTDOWN_DELAY_MS: integer(0, 600_000, 0),
  SHUTDOWN_GRACE_MS: milliseconds(15_000),
  PERSISTED_OPERATIONS: z
    .enum(PERSISTED_OPERATIONS_MODES, { error: `must be one of ${PERSISTED_OPERATIONS_MODES.join(', ')}` })
    .default('allow'),
  PERSISTED_OPERATIONS_MANIFEST: z.string().min(1).default(DEFAULT_MANIFEST_PATH),
  CALLER_AUTH: z.enum(CALLER_AUTH_MODES, { error: `must be one of ${CALLER_AUTH_MODES.join(', ')}` }).optional(),
  AUTH_JWKS_URL: secureUrl.optional(),
  AUTH_ISSUER: z.string().max(1_000).optional(),
  AUTH_AUDIENCE: z.string().max(1_000).optional(),
  AUTH_ALGORITHMS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(JWT_ALGORITHMS, { error: `must be a comma-separated list of ${JWT_ALGORITHMS.join(', ')}` }))
        .min(1, { error: 'must name at least one algorithm' }),
    )
    .default(['RS256', 'ES256', 'EdDSA']),
  AUTH_JWKS_COOLDOWN_MS: integer(0, 600_000, 30_000),
  AUTH_CLOCK_TOLERANCE_S: integer(0, 300, 30),
  AUTH_REFERENCE_CLAIM: claimName.default('sub'),
  AUTH_LOCATIONS_CLAIM: claimName.optional(),
  RATE_LIMIT_PER_SECOND: decimal(0, 100_000, 20, 'must be a number from 0 (off) to 100000'),
  RATE_LIMIT_BURST: integer(1, 1_000_000, 40),
  INTROSPECTION_PER_MINUTE: integer(0, 1_000_000, LIMITS.introspectionPerMinute.value),
  DEVICE_CACHE_TTL_MS: integer(0, 86_400_000, 0),
  DEVICE_POLL_INTERVAL_MS: integer(100, 3_600_000, 5_000),
  SUBSCRIPTION_MAX_ERRORS: integer(1, 1_000, 5),
  MAX_SUBSCRIPTIONS_PER_CALLER: integer(0, 100_000, 20),
  MAX_SUBSCRIPTIONS: integer(0, 1_000_000, 10_000),
  MAX_WEBSOCKETS: integer(0, 1_000_000, LIMITS.webSockets.value),
  WEBSOCKET_KEEPALIVE_MS: integer(100, 600_000, 12_000),
  SUBSCRIPTION_CALLBACK_URLS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((prefix) => prefix.trim())
        .filter(Boolean),
    )
    .refine((prefixes) => prefixes.every((prefix) => URL.canParse(prefix) && /^https?:$/.test(new URL(prefix).protocol)), {
      error: 'must be a comma-separated list of http(s) URL prefixes such as https://router.internal:4000/callback/',
    })
    .transform((prefixes) => prefixes.map((prefix) => new URL(prefix)))
    .default([]),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .transform((value) => new URL(value))
    .optional(),
  // The OpenTelemetry specification's variables, with its meanings and defaults.
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl.optional(),
  OTEL_SERVICE_NAME: z.string().max(200).default('flatpeak-graph'),
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS, { error: `must be one of ${TRACE_SAMPLERS.join(', ')}` }).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: decimal(0, 1, 1),
  DOCUMENT_CACHE_MB: integer(1, 1_024, 32),
  APQ_CACHE_MB: integer(1, 1_024, 8),
  FTV1_TRACES: z.enum(['off', 'on'], { error: 'must be off or on' }).default('off'),
  SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES: z.enum(['false', 'true'], { error: 'must be true or false' }).default('false'),
});

/** The name of every environment variable the service reads. */
export type EnvVariable = keyof typeof envSchema.shape;

/** Reads and validates the configuration; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable (`PORT=`) means "unset", as most shells and orchestrators intend.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const got = name in present && !SECRET.has(name) ? ` (got ${JSON.stringify(present[name])})` : '';
        return `${name}: ${issue.message}${got}`;
      });
  if ('FLATPEAK_ACCOUNT_ID' in present !== 'FLATPEAK_API_KEY' in present) {
    const missing = 'FLATPEAK_ACCOUNT_ID' in present ? 'FLATPEAK_API_KEY' : 'FLATPEAK_ACCOUNT_ID';
    problems.push(
      `${missing}: must be set together with ${missing === 'FLATPEAK_API_KEY' ? 'FLATPEAK_ACCOUNT_ID' : 'FLATPEAK_API_KEY'} (service credentials), or both left unset (pass-through)`,
    );
  }
  if (parsed.success) problems.push(...upstreamProblems(parsed.data, present), ...callerProblems(parsed.data, present));
  // Read here so that a missing or broken manifest stops the start, named like any bad variable.
  let manifest: PersistedManifest = new Map();
  if (parsed.success && parsed.data.PERSISTED_OPERATIONS !== 'off') {
    try {
      manifest = readManifest(parsed.data.PERSISTED_OPERATIONS_MANIFEST);
    } catch (error) {
      problems.push(
        `PERSISTED_OPERATIONS_MANIFEST: ${(error as Error).message} (got ${JSON.stringify(parsed.data.PERSISTED_OPERATIONS_MANIFEST)})`,
      );
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT === 0 ? undefined : e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    flatpeakApiUrl: e.FLATPEAK_API_URL!,
    standin: e.FLATPEAK_STANDIN === 'true',
    serviceCredentials:
      e.FLATPEAK_ACCOUNT_ID && e.FLATPEAK_API_KEY
        ? Object.freeze({ accountId: e.FLATPEAK_ACCOUNT_ID, apiKey: e.FLATPEAK_API_KEY })
        : undefined,
    upstream: Object.freeze({
      connectTimeoutMs: e.FLATPEAK_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: e.FLATPEAK_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: e.FLATPEAK_BODY_TIMEOUT_MS,
      keepAliveTimeoutMs: e.FLATPEAK_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.FLATPEAK_MAX_CONNECTIONS,
      maxConcurrent: e.FLATPEAK_MAX_CONNECTIONS,
      maxQueue: e.FLATPEAK_MAX_QUEUE,
      maxCallsPerRequest: e.FLATPEAK_MAX_CALLS_PER_REQUEST,
      attemptTimeoutMs: e.FLATPEAK_ATTEMPT_TIMEOUT_MS,
      maxRetries: e.FLATPEAK_MAX_RETRIES,
      retryBudgetRatio: e.FLATPEAK_RETRY_BUDGET_RATIO,
      breakerFailureRatio: e.FLATPEAK_BREAKER_FAILURE_RATIO,
      breakerWindowMs: e.FLATPEAK_BREAKER_WINDOW_MS,
      breakerMinCalls: e.FLATPEAK_BREAKER_MIN_CALLS,
      breakerOutageFailures: e.FLATPEAK_BREAKER_OUTAGE_FAILURES,
      breakerOutageMs: e.FLATPEAK_BREAKER_OUTAGE_MS,
      breakerCooldownMs: e.FLATPEAK_BREAKER_COOLDOWN_MS,
    }),
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    maxDevicesPerRequest: e.MAX_DEVICES_PER_REQUEST,
    maxRequestsInFlight: e.MAX_REQUESTS_IN_FLIGHT,
    maxDeviceLoadsInFlight: e.MAX_DEVICE_LOADS_IN_FLIGHT,
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    flatpeakProbeIntervalMs: e.FLATPEAK_PROBE_INTERVAL_MS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    persistedOperations: Object.freeze({
      mode: e.PERSISTED_OPERATIONS,
      manifestPath: e.PERSISTED_OPERATIONS_MANIFEST,
      manifest,
      apqCacheBytes: e.APQ_CACHE_MB * MB,
    }),
    callers: callerSettings(e),
    redisUrl: e.REDIS_URL,
    rateLimit: Object.freeze({ perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST }),
    // A bucket of a minute's worth, refilled evenly: a burst of `n` at once, then one every 60/n s.
    introspectionLimit: Object.freeze({ perSecond: e.INTROSPECTION_PER_MINUTE / 60, burst: Math.max(1, e.INTROSPECTION_PER_MINUTE) }),
    // Stale-while-revalidate for as long again as the TTL: a device read often keeps being
    // served at cache speed while one refresh per device runs behind it.
    deviceCache: Object.freeze({ ttlMs: e.DEVICE_CACHE_TTL_MS, staleMs: e.DEVICE_CACHE_TTL_MS }),
    subscriptions: Object.freeze({
      pollIntervalMs: e.DEVICE_POLL_INTERVAL_MS,
      maxErrors: e.SUBSCRIPTION_MAX_ERRORS,
      maxPerCaller: e.MAX_SUBSCRIPTIONS_PER_CALLER,
      maxTotal: e.MAX_SUBSCRIPTIONS,
      maxWebSockets: e.MAX_WEBSOCKETS,
      webSocketKeepAliveMs: e.WEBSOCKET_KEEPALIVE_MS,
      callbackUrls: Object.freeze(e.SUBSCRIPTION_CALLBACK_URLS),
    }),
    tracing: Object.freeze({
      tracesUrl:
        e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT && signalUrl(e.OTEL_EXPORTER_OTLP_ENDPOINT, 'v1/traces')),
      serviceName: e.OTEL_SERVICE_NAME,
      sampler: e.OTEL_TRACES_SAMPLER,
      samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    }),
    documentCache: Object.freeze({ maxEntries: LIMITS.documentCacheEntries.value, maxBytes: e.DOCUMENT_CACHE_MB * MB }),
    federatedTraces: e.FTV1_TRACES === 'on',
    omitSecurityDirectives: e.SUBGRAPH_SDL_OMIT_SECURITY_DIRECTIVES === 'true',
  });
}

/** The specification's rule: the base endpoint gets the signal's path appended; a per-signal endpoint is used as given. */
function signalUrl(base: URL, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url;
}

type Env = z.output<typeof envSchema>;

const hasServiceCredentials = (present: Record<string, string | undefined>) =>
  'FLATPEAK_ACCOUNT_ID' in present || 'FLATPEAK_API_KEY' in present;

/**
 * Sample data is never served by mistake: the service always talks to the Flatpeak it is
 * given. Only the development launcher (tools/dev.ts, `npm start` and `npm run dev` from a
 * clone) starts a stand-in, and it marks it (FLATPEAK_STANDIN) so that the service says so;
 * production refuses it. Service credentials are for a real Flatpeak: without its URL they
 * would be sent nowhere, or to a stand-in that accepts anything.
 */
function upstreamProblems(e: Env, present: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const production = e.NODE_ENV === PRODUCTION;
  if (!e.FLATPEAK_API_URL) {
    if (production) {
      problems.push(
        "FLATPEAK_API_URL: must be set when NODE_ENV is production: the URL of Flatpeak's API (https://api.flatpeak.com); the service never serves sample data in production",
      );
    } else if (hasServiceCredentials(present)) {
      problems.push(
        "FLATPEAK_API_URL: must be set with service credentials (FLATPEAK_ACCOUNT_ID, FLATPEAK_API_KEY), which are meant for a real Flatpeak: set it to Flatpeak's API (https://api.flatpeak.com), or unset the credentials and run `npm start` for sample data",
      );
    } else {
      problems.push(
        "FLATPEAK_API_URL: must be set to Flatpeak's API (https://api.flatpeak.com); for sample data from a local stand-in, run `npm start` or `npm run dev` from a clone, which start one when it is unset",
      );
    }
  }
  if (e.FLATPEAK_STANDIN === 'true' && production) {
    problems.push(
      'FLATPEAK_STANDIN: the sample-data stand-in is a development tool and is refused when NODE_ENV is production; unset FLATPEAK_STANDIN and give the real FLATPEAK_API_URL',
    );
  }
  return problems;
}

/**
 * Service credentials read every device of the account, so with them the service must
 * know its callers, or be told explicitly that it need not (the development launcher says
 * `none` for its stand-in unless told otherwise).
 */
function callerProblems(e: Env, present: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (hasServiceCredentials(present)) {
    if (e.CALLER_AUTH === undefined && e.FLATPEAK_API_URL) {
      problems.push(
        "CALLER_AUTH: must be set with service credentials: jwt (verify callers' tokens; see AUTH_JWKS_URL) or none (any caller reads every device of the account: only behind a router on a trusted network)",
      );
    }
  } else if (e.CALLER_AUTH !== undefined && e.FLATPEAK_API_URL) {
    problems.push(
      `CALLER_AUTH: must be unset in pass-through mode (no service credentials), where each caller's Authorization header carries its own Flatpeak token (got ${JSON.stringify(e.CALLER_AUTH)})`,
    );
  }
  if (e.CALLER_AUTH === 'jwt') {
    for (const name of ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
      if (!e[name]) problems.push(`${name}: must be set when CALLER_AUTH is jwt`);
    }
  }
  return problems;
}

function callerSettings(e: Env): CallerSettings {
  if (e.CALLER_AUTH === 'jwt') {
    return Object.freeze({
      mode: 'jwt',
      jwt: Object.freeze({
        jwksUrl: e.AUTH_JWKS_URL!,
        issuer: e.AUTH_ISSUER!,
        audience: e.AUTH_AUDIENCE!,
        algorithms: Object.freeze([...new Set(e.AUTH_ALGORITHMS)]),
        jwksCooldownMs: e.AUTH_JWKS_COOLDOWN_MS,
        clockToleranceS: e.AUTH_CLOCK_TOLERANCE_S,
      }),
      referenceClaim: e.AUTH_REFERENCE_CLAIM,
      locationsClaim: e.AUTH_LOCATIONS_CLAIM,
    });
  }
  const passThrough = e.FLATPEAK_API_URL && !e.FLATPEAK_ACCOUNT_ID;
  return Object.freeze({ mode: passThrough ? 'pass-through' : 'none' });
}
