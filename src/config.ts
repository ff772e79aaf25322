import { z } from 'zod';
import type { ResilienceSettings } from './upstream/resilience.ts';
import { DEFAULT_MANIFEST_PATH, type PersistedManifest, readManifest } from './persisted/manifest.ts';
import type { DocumentCacheSettings } from './plugins/document-cache.ts';

/** Distinct documents the document cache keeps at most, whatever their size. */
export const DOCUMENT_CACHE_MAX_ENTRIES = 1_000;
const MB = 1024 * 1024;

/**
 * Every setting the service reads from its environment, validated once at start-up.
 * Nothing else in `src/` reads `process.env`.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Unset means: start the embedded Flatpeak stand-in and talk to it. */
  readonly flatpeakApiUrl: URL | undefined;
  /** Service credentials; unset means pass the caller's bearer token through. */
  readonly serviceCredentials: ServiceCredentials | undefined;
  readonly upstream: UpstreamSettings;
  /** Every GraphQL request answers within this, whatever Flatpeak does. */
  readonly requestDeadlineMs: number;
  /** Browser origins allowed to call the service cross-origin; none by default. */
  readonly corsOrigins: readonly string[];
  /** Distinct devices one GraphQL request may load (aliases multiply what a document asks for). */
  readonly maxDevicesPerRequest: number;
  /** `/ready` re-checks Flatpeak at most this often. */
  readonly readyCheckIntervalMs: number;
  /** After SIGTERM, how long to stay up (unready) before closing the listener. */
  readonly shutdownDelayMs: number;
  /** After the listener closes, in-flight requests get this long to finish. */
  readonly shutdownGraceMs: number;
  readonly persistedOperations: PersistedOperationsSettings;
  /** Parsed and validated documents kept for reuse (DOCUMENT_CACHE_MB). */
  readonly documentCache: DocumentCacheSettings;
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

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

// Values of the secret variables are never echoed back in an error message.
const SECRET = new Set(['FLATPEAK_API_KEY']);

const envSchema = z.object({
    PORT: integer(0, 65_535, 4000),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    FLATPEAK_API_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .transform((value) => new URL(value))
      // The API key and bearer tokens travel in headers: plain http only on this machine.
      .refine((url) => url.protocol === 'https:' || LOOPBACK.test(url.hostname), {
        error: 'must be https unless it points at this machine (localhost, 127.x.x.x, [::1])',
      })
      .optional(),
    FLATPEAK_ACCOUNT_ID: z
      .string()
      .regex(/^acc_[A-Za-z0-9]+$/, 'must look like acc_…')
      .optional(),
    FLATPEAK_API_KEY: z.string().min(1).optional(),
    FLATPEAK_CONNECT_TIMEOUT_MS: milliseconds(2_000),
    FLATPEAK_HEADERS_TIMEOUT_MS: milliseconds(5_000),
    FLATPEAK_BODY_TIMEOUT_MS: milliseconds(5_000),
    FLATPEAK_KEEP_ALIVE_TIMEOUT_MS: milliseconds(30_000),
    FLATPEAK_MAX_CONNECTIONS: integer(1, 1_024, 32),
    FLATPEAK_MAX_QUEUE: integer(0, 100_000, 1_024),
    FLATPEAK_MAX_CALLS_PER_REQUEST: integer(1, 1_024, 16),
    FLATPEAK_ATTEMPT_TIMEOUT_MS: milliseconds(4_000),
    FLATPEAK_MAX_RETRIES: integer(0, 10, 2),
    FLATPEAK_RETRY_BUDGET_RATIO: z.coerce
      .number({ error: 'must be a number from 0 to 1' })
      .min(0, { error: 'must be a number from 0 to 1' })
      .max(1, { error: 'must be a number from 0 to 1' })
      .default(0.2),
    FLATPEAK_BREAKER_FAILURE_RATIO: z.coerce
      .number({ error: 'must be a number above 0 and below 1' })
      .gt(0, { error: 'must be a number above 0 and below 1' })
      .lt(1, { error: 'must be a number above 0 and below 1' })
      .default(0.5),
    FLATPEAK_BREAKER_WINDOW_MS: milliseconds(10_000),
    FLATPEAK_BREAKER_MIN_CALLS: integer(1, 1_000_000, 20),
    FLATPEAK_BREAKER_COOLDOWN_MS: milliseconds(5_000),
    REQUEST_DEADLINE_MS: milliseconds(10_000),
    MAX_DEVICES_PER_REQUEST: integer(1, 100_000, 200),
    CORS_ORIGINS: z
      .string()
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
      .refine((origins) => origins.every((origin) => /^https?:\/\/[^/\s]+$/.test(origin)), {
        error: 'must be a comma-separated list of origins such as https://app.example.com',
      })
      .default([]),
    READY_CHECK_INTERVAL_MS: milliseconds(5_000),
    SHUTDOWN_DELAY_MS: integer(0, 600_000, 0),
    SHUTDOWN_GRACE_MS: milliseconds(15_000),
      PERSISTED_OPERATIONS: z
      .enum(PERSISTED_OPERATIONS_MODES, { error: `must be one of ${PERSISTED_OPERATIONS_MODES.join(', ')}` })
      .default('allow'),
    PERSISTED_OPERATIONS_MANIFEST: z.string().min(1).default(DEFAULT_MANIFEST_PATH),
    DOCUMENT_CACHE_MB: integer(1, 1_024, 32),
    APQ_CACHE_MB: integer(1, 1_024, 8),
});

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
  if (('FLATPEAK_ACCOUNT_ID' in present) !== ('FLATPEAK_API_KEY' in present)) {
    const missing = 'FLATPEAK_ACCOUNT_ID' in present ? 'FLATPEAK_API_KEY' : 'FLATPEAK_ACCOUNT_ID';
    problems.push(`${missing}: must be set together with ${missing === 'FLATPEAK_API_KEY' ? 'FLATPEAK_ACCOUNT_ID' : 'FLATPEAK_API_KEY'} (service credentials), or both left unset (pass-through)`);
  }
  // Read here so that a missing or broken manifest stops the start, named like any bad variable.
  let manifest: PersistedManifest = new Map();
  if (parsed.success && parsed.data.PERSISTED_OPERATIONS !== 'off') {
    try {
      manifest = readManifest(parsed.data.PERSISTED_OPERATIONS_MANIFEST);
    } catch (error) {
      problems.push(`PERSISTED_OPERATIONS_MANIFEST: ${(error as Error).message} (got ${JSON.stringify(parsed.data.PERSISTED_OPERATIONS_MANIFEST)})`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    flatpeakApiUrl: e.FLATPEAK_API_URL,
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
      breakerCooldownMs: e.FLATPEAK_BREAKER_COOLDOWN_MS,
    }),
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    maxDevicesPerRequest: e.MAX_DEVICES_PER_REQUEST,
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    readyCheckIntervalMs: e.READY_CHECK_INTERVAL_MS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    persistedOperations: Object.freeze({
      mode: e.PERSISTED_OPERATIONS,
      manifestPath: e.PERSISTED_OPERATIONS_MANIFEST,
      manifest,
      apqCacheBytes: e.APQ_CACHE_MB * MB,
    }),
    documentCache: Object.freeze({ maxEntries: DOCUMENT_CACHE_MAX_ENTRIES, maxBytes: e.DOCUMENT_CACHE_MB * MB }),
  });
}
