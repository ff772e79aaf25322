import { useApolloInlineTrace } from '@graphql-yoga/plugin-apollo-inline-trace';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import type { Dispatcher } from 'undici';
import type { Config } from './config.ts';
import { type Context, createContextFactory } from './context.ts';
import { createGraphiQLRenderer, graphiqlOptions } from './graphiql.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { useBoundedDocuments } from './plugins/bounded-documents.ts';
import { useUpstreamErrorLog, useVariableErrorCode } from './plugins/error-codes.ts';
import { usePersistedOperationsMode } from './plugins/persisted-operations.ts';
import { useRequestLog } from './plugins/request-log.ts';
import { useSecurityLimits } from './plugins/security.ts';
import { schema } from './schema/index.ts';
import { createServiceTokenSource, type TokenSource } from './upstream/auth.ts';
import { createReadinessCheck } from './readiness.ts';
import { createFlatpeakClient, type Deadline } from './upstream/flatpeak.ts';
import { createUpstreamPolicy } from './upstream/resilience.ts';

export interface AppOptions {
  readonly config: Config;
  /** Where Flatpeak is: `config.flatpeakApiUrl`, or the embedded stand-in's address. */
  readonly upstreamUrl: URL;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** True once shutdown has begun: `/ready` then answers 503. */
  readonly isStopping?: () => boolean;
}

export type App = YogaServerInstance<Record<string, unknown>, Context>;

export const MAX_REQUEST_BODY_BYTES = 128 * 1024;

/** The whole GraphQL service, without a port: `main.ts` listens, tests call `app.fetch`. */
export function createApp({ config, upstreamUrl, dispatcher, logger, isStopping = () => false }: AppOptions): App {
  const metrics = createMetrics();
  const policy = createUpstreamPolicy(config.upstream, { logger, observer: metrics.upstream });
  const client = createFlatpeakClient({ baseUrl: upstreamUrl, dispatcher, policy });
  let serviceToken: TokenSource | undefined;
  if (config.serviceCredentials) {
    const { accountId, apiKey } = config.serviceCredentials;
    serviceToken = createServiceTokenSource({
      login: async () => {
        // Shared by every waiting request, so it has a deadline of its own.
        const login = await client.login(accountId, apiKey, deadlineIn(config.requestDeadlineMs));
        logger.info({ accountId, expiresIn: login.expires_in }, 'logged in to Flatpeak');
        return login;
      },
    });
  }

  const ready = createReadinessCheck({
    intervalMs: config.readyCheckIntervalMs,
    isStopping,
    logger,
    probe: async () => {
      const token = serviceToken ? await serviceToken.token() : undefined;
      const status = await client.probe(token, deadlineIn(config.upstream.attemptTimeoutMs));
      if (token && status === 401) serviceToken?.invalidate(token);
      // Pass-through has no token to probe with: a 401 still proves Flatpeak is there. A
      // 429 is a busy Flatpeak, not a broken one: taking every replica out would not help.
      return status < 500 && (token === undefined || status < 400 || status === 429);
    },
  });

  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: createContextFactory({
      client,
      serviceToken,
      requestDeadlineMs: config.requestDeadlineMs,
      maxDevicesPerRequest: config.maxDevicesPerRequest,
      maxCallsPerRequest: config.upstream.maxCallsPerRequest,
    }),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    // Yoga's default CORS reflects any Origin with credentials: any web page could read
    // devices through a service that holds the Flatpeak credentials. Only listed origins.
    cors: config.corsOrigins.length > 0 ? { origin: [...config.corsOrigins], credentials: false } : false,
    // Yoga accepts 25 MB by default. Real operations are a few KB; a large body only
    // serves to fill the parse and APQ caches.
    maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
    // Yoga's cache counts documents, not bytes, and keeps failed ones with all their errors:
    // useBoundedDocuments replaces it.
    parserAndValidationCache: false,
    graphiql: graphiqlOptions,
    renderGraphiQL: createGraphiQLRenderer(),
    // Never development mode: it would attach original errors and stacks to responses.
    maskedErrors: { isDev: false },
    logging: logger,
    plugins: [
      useReadinessCheck({ endpoint: '/ready', check: ready }),
      usePrometheus({
        endpoint: '/metrics',
        registry: metrics.registry,
        // Labels whose values callers choose (operation names, URLs with hashes, error
        // paths with list indexes) would let any client mint unbounded time series.
        labels: { operationName: false, url: false, path: false },
        // Request duration, counts, errors and execution time. The summary and the parse,
        // validate and context phases (cached, and near zero) cost ~20 % of a request.
        metrics: {
          graphql_yoga_http_duration: true,
          graphql_envelop_request: true,
          graphql_envelop_error_result: true,
          graphql_envelop_phase_execute: true,
          graphql_envelop_request_duration: false,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_phase_parse: false,
          graphql_envelop_phase_validate: false,
          graphql_envelop_phase_context: false,
          graphql_envelop_phase_subscribe: false,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
        },
      }),
      useSecurityLimits(),
      useVariableErrorCode(),
      useRequestLog(logger),
      useUpstreamErrorLog(logger),
      // Consumers: persisted operations for the apps, @defer/@stream for slow screens,
      // ftv1 traces for a router that asks for them (apollo-federation-include-trace).
      // A trace carries the response's errors after masking, so it reveals nothing more.
      ...usePersistedOperationsMode(config.persistedOperations),
      useDeferStream(),
      useApolloInlineTrace(),
      ...useBoundedDocuments(config.documentCache),
    ],
  });
}

function deadlineIn(ms: number): Deadline {
  return { signal: AbortSignal.timeout(ms), deadlineAt: Date.now() + ms };
}
