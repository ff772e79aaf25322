import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { Config } from './config.ts';
import { type Context, createContextFactory } from './context.ts';
import { createGraphiQLRenderer, graphiqlOptions } from './graphiql.ts';
import { graphiqlAssets } from './graphiql-assets.ts';
import { useGraphiQLAssets } from './plugins/request/use-graphiql-assets.ts';
import { useCompressedResponses } from './plugins/response/use-compressed-responses.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics, registerUpstreamStatusMetrics } from './metrics.ts';
import { useUpstreamErrorLog } from './plugins/observability/use-upstream-error-log.ts';
import { useVariableErrorCode } from './plugins/response/use-variable-error-code.ts';
import { useDeferStreamArguments } from './plugins/document/use-defer-stream-arguments.ts';
import { useAdmission } from './plugins/request/use-admission.ts';
import { createAdmission } from './http/admission.ts';
import { createLoadBudget } from './request/load-budget.ts';
import { useKnownOperationTypes } from './plugins/document/use-known-operation-types.ts';
import { usePersistedOperationsMode } from './plugins/request/use-persisted-operations.ts';
import { createRedisRegistrations } from './persisted/shared-registrations.ts';
import { useEndpointOnly } from './plugins/request/use-endpoint-only.ts';
import { useNotAcceptable } from './plugins/response/use-not-acceptable.ts';
import { useFederatedTraces } from './plugins/observability/use-federated-traces.ts';
import { useGraphQLMetrics } from './plugins/observability/use-graphql-metrics.ts';
import { useRequestLog } from './plugins/observability/use-request-log.ts';
import { useStrictRequestParsing } from './plugins/request/use-strict-request-parsing.ts';
import { LIMITS } from './limits.ts';
import { useArmorLimits } from './plugins/document/use-armor-limits.ts';
import { useIntrospectionLimit } from './plugins/document/use-introspection-limit.ts';
import { useParseLimits } from './plugins/document/use-parse-limits.ts';
import { createDocumentCache } from './plugins/document/use-document-cache.ts';
import { useValidationErrorLimit } from './plugins/document/use-validation-error-limit.ts';
import { useBoundedErrorMessages } from './plugins/response/use-bounded-error-messages.ts';
import { useCostlyRequestLane } from './plugins/request/use-costly-request-lane.ts';
import { useReadinessEndpoint } from './plugins/request/use-readiness-endpoint.ts';
import { useStatusEndpoint } from './plugins/request/use-status-endpoint.ts';
import { LOADER_QUERY_FIELDS, servedSchema } from './schema/index.ts';
import { createRequestTracing } from './telemetry/request-tracing.ts';
import type { Tracing } from './telemetry/tracing.ts';
import { createServiceTokenSource, type TokenSource } from './upstream/auth.ts';
import { createFlatpeakClient, type Deadline } from './upstream/flatpeak.ts';
import { createAuthenticator } from './callers/authenticate.ts';
import { createRateLimiter, createRedisRateLimiter } from './callers/rate-limit.ts';
import { createRedisDeviceCache } from './upstream/redis-cache.ts';
import { redisFailures } from './redis.ts';
import { createDependencyFailures, type ReportDependencyFailure } from './telemetry/dependency-failures.ts';
import { useCallerRequired } from './plugins/execution/use-caller-required.ts';
import { useCacheControl } from './plugins/response/use-cache-control.ts';
import { useRequestEnd } from './plugins/execution/use-request-end.ts';
import { useCompiledExecution } from './plugins/execution/use-compiled-execution.ts';
import { useBodyLimit } from './plugins/request/use-body-limit.ts';
import { createMemoryDeviceCache } from './upstream/cache.ts';
import { createCoalescer } from './upstream/coalescer.ts';
import { createDeviceSource } from './upstream/device-source.ts';
import { createUpstreamPolicy } from './upstream/resilience.ts';
import { createUpstreamMonitor } from './upstream/status.ts';
import { createLiveDevices } from './live/live-devices.ts';
import { createDevicePoll } from './live/poll-device.ts';
import { subscriptionsTheHeapHolds } from './live/subscription-budget.ts';
import { createRedisLiveFleet } from './live/live-fleet.ts';
import { useMultipartSubscriptions } from './plugins/response/use-multipart-subscriptions.ts';
import { createFastLane, listPlugins, yogaListener } from './http/fast-lane.ts';
import { createWebSocketSubscriptions } from './subscriptions/websocket.ts';
import { createCallbackEmitter } from './subscriptions/callbacks.ts';
import { useSubscriptionCallbacks } from './plugins/execution/use-subscription-callbacks.ts';

export interface AppOptions {
  readonly config: Config;
  /** Where Flatpeak is: `config.flatpeakApiUrl` (tests give a stand-in's address). */
  readonly upstreamUrl: URL;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Shared by the replicas when REDIS_URL is set: device cache, APQ registrations, rate limits. */
  readonly redis?: Redis | undefined;
  /** True once shutdown has begun: `/ready` then answers 503 (and before, 200: Flatpeak's state is not readiness). */
  readonly isStopping?: () => boolean;
  /** Aborted when the listener is about to close: open subscriptions then end (SHUTTING_DOWN). */
  readonly shutdownSignal?: AbortSignal;
  /** OpenTelemetry, when an OTLP endpoint is configured (`createTracing`). */
  readonly tracing?: Tracing | undefined;
  /** False: every request through Yoga's HTTP layer, none through the fast lane (tests compare the two). */
  readonly fastLane?: boolean;
  /** False: every operation run by Yoga's executor, none compiled by graphql-jit (tests compare the two). */
  readonly compiledExecution?: boolean;
  /**
   * The app's metrics and where failures of its dependencies (JWKS, Flatpeak login, Redis)
   * go: made before the app when something made before it reports into them (main.ts's
   * Redis connection); else the app makes its own.
   */
  readonly metrics?: Metrics;
  readonly onDependencyFailure?: ReportDependencyFailure;
}

export type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

export interface App {
  /** The whole GraphQL service as Yoga serves it (`yoga.fetch` for requests without a port). */
  readonly yoga: Yoga;
  /** For `node:http`: plain JSON POSTs through the fast lane, everything else through Yoga. */
  readonly listener: RequestListener;
  /** For the HTTP server's `upgrade` event: subscriptions over WebSocket (graphql-transport-ws). */
  readonly upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * SIGTERM, once `shutdownSignal` has ended every subscription: resolves when their last
   * messages are out (WebSocket close frames, callbacks' `complete`), or after `graceMs`.
   */
  closeSubscriptions(graceMs: number): Promise<void>;
}

/** Where GraphQL is served: Yoga, the fast lane, the endpoint guard and the operation spans agree on it. */
const GRAPHQL_ENDPOINT = '/graphql';

/** The whole GraphQL service, without a port: `main.ts` listens, tests call `app.yoga.fetch`. */
export function createApp({
  config,
  upstreamUrl,
  dispatcher,
  logger,
  redis,
  isStopping = () => false,
  shutdownSignal,
  tracing,
  fastLane = true,
  compiledExecution = true,
  metrics = createMetrics(),
  onDependencyFailure = createDependencyFailures({ logger, count: metrics.dependencyFailure }),
}: AppOptions): App {
  const admission = createAdmission({
    maxInFlight: config.maxRequestsInFlight,
    maxPerConnection: LIMITS.pipelinedPerConnection.value,
    maxUnsentBytes: LIMITS.unsentBytes.value,
    onRefused: metrics.refused,
  });
  const loadBudget = createLoadBudget(config.maxDeviceLoadsInFlight);
  metrics.watchRequests(() => ({ requests: admission.inFlight, deviceLoads: loadBudget.used }));
  // Every failed Redis command is counted; the log says it at most once a minute (with the
  // connection's own failures), not once per request of an outage.
  const onSharedStateError = redis ? redisFailures(redis, onDependencyFailure) : () => {};
  const deviceCache =
    config.deviceCache.ttlMs <= 0
      ? undefined
      : redis
        ? createRedisDeviceCache(redis, config.deviceCache)
        : createMemoryDeviceCache(config.deviceCache);
  const localLimiter = createRateLimiter(config.rateLimit);
  const rateLimiter = redis ? createRedisRateLimiter(redis, config.rateLimit, localLimiter, onSharedStateError) : localLimiter;
  const localIntrospection = createRateLimiter(config.introspectionLimit);
  const introspectionLimiter = redis
    ? createRedisRateLimiter(redis, config.introspectionLimit, localIntrospection, onSharedStateError)
    : localIntrospection;
  const policy = createUpstreamPolicy(config.upstream, { logger, observer: metrics.upstream });
  metrics.watchConcurrency(policy.concurrency);
  const traces = createRequestTracing(tracing, GRAPHQL_ENDPOINT);
  const client = createFlatpeakClient({ baseUrl: upstreamUrl, dispatcher, policy, tracing: traces.upstream });
  let serviceToken: TokenSource | undefined;
  if (config.serviceCredentials) {
    const { accountId, apiKey } = config.serviceCredentials;
    serviceToken = createServiceTokenSource({
      onLoginFailure: onDependencyFailure,
      login: async () => {
        try {
          // Shared by every waiting request, so it has a deadline of its own.
          const login = await client.login(accountId, apiKey, deadlineIn(config.requestDeadlineMs));
          logger.info({ accountId, expiresIn: login.expires_in }, 'logged in to Flatpeak');
          monitor.loggedIn({ ok: true });
          return login;
        } catch (error) {
          monitor.loggedIn({ ok: false, error });
          throw error;
        }
      },
    });
  }

  const monitor = createUpstreamMonitor({
    credentials: config.serviceCredentials ? 'service' : 'pass-through',
    circuit: policy.circuit,
    intervalMs: config.flatpeakProbeIntervalMs,
    logger,
    probe: async () => {
      const token = serviceToken ? await serviceToken.token() : undefined;
      const status = await client.probe(token, AbortSignal.timeout(config.upstream.attemptTimeoutMs));
      if (token && status === 401) serviceToken?.invalidate(token);
      // Pass-through has no token to probe with: a 401 still proves Flatpeak is there.
      return { status, ok: status < 500 && (token === undefined || status < 400 || status === 429) };
    },
  });
  registerUpstreamStatusMetrics(metrics.registry, monitor.status, {
    serviceCredentials: serviceToken !== undefined,
    standin: config.standin,
  });

  const devices = createDeviceSource({
    coalescer: createCoalescer(),
    cache: deviceCache,
    ttlMs: config.deviceCache.ttlMs,
    refreshDeadlineMs: config.requestDeadlineMs,
    onCacheError: onSharedStateError,
    observer: metrics.deviceReads,
  });
  // Bounded by the heap too: more open streams than it holds would exhaust it (issue 21).
  const heapHolds = subscriptionsTheHeapHolds();
  if (heapHolds < config.subscriptions.maxTotal) {
    logger.info(
      { maxSubscriptions: heapHolds, configured: config.subscriptions.maxTotal },
      'MAX_SUBSCRIPTIONS lowered to what the heap holds (~48 KB each; see docs/operations.md#memory)',
    );
  }
  const live = createLiveDevices({
    settings: {
      ...config.subscriptions,
      maxTotal: Math.min(config.subscriptions.maxTotal, heapHolds),
      pollTimeoutMs: config.requestDeadlineMs,
    },
    poll: createDevicePoll(client, devices, config.requestDeadlineMs),
    logger,
    observer: metrics.live,
    // A lease of two intervals: renewed every interval by its holder, and taken over by another
    // replica at most two intervals after its holder died (at once when it stopped).
    fleet: redis
      ? createRedisLiveFleet(redis, { leaseMs: 2 * config.subscriptions.pollIntervalMs, logger, onError: onSharedStateError })
      : undefined,
  });
  shutdownSignal?.addEventListener('abort', () => live.close(), { once: true });

  const callbacks = createCallbackEmitter({ logger, timeoutMs: config.requestDeadlineMs, onOpen: metrics.transports.callbacks });
  const authenticate = createAuthenticator(config.callers, { onDependencyFailure });
  const documents = createDocumentCache(config.documentCache);
  const allowedOrigins = new Set(config.corsOrigins);
  const costlyRequests = useCostlyRequestLane(documents.isKnown);
  const strictParsing = useStrictRequestParsing();
  const bodyLimit = useBodyLimit(LIMITS.requestBodyBytes.value);
  const pluginList = listPlugins();
  const assets = graphiqlAssets(`${GRAPHQL_ENDPOINT}/assets/`);
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema: servedSchema({ omitSecurityDirectives: config.omitSecurityDirectives }),
    context: createContextFactory({
      client,
      devices,
      live,
      serviceToken,
      authenticate,
      rateLimiter,
      logger,
      requestDeadlineMs: config.requestDeadlineMs,
      maxDevicesPerRequest: config.maxDevicesPerRequest,
      maxCallsPerRequest: config.upstream.maxCallsPerRequest,
      loadBudget,
      traceContextOf: traces.traceContextOf,
    }),
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    healthCheckEndpoint: '/health',
    landingPage: false,
    // Yoga's default CORS reflects any Origin with credentials: any web page could read
    // devices through a service that holds the Flatpeak credentials. Only listed origins get
    // CORS headers; any other gets none (Yoga would answer it `null`, which a sandboxed
    // iframe's opaque origin matches).
    cors: (request) => {
      const origin = request.headers.get('origin');
      return origin !== null && allowedOrigins.has(origin) ? { origin: [...allowedOrigins], credentials: false } : false;
    },
    // Yoga accepts 25 MB by default. Real operations are a few KB; a large body only
    // serves to fill the parse and APQ caches.
    // Enforced by useBodyLimit instead: Yoga's own costs a TransformStream per body.
    maxRequestBodySize: false,
    // Yoga's cache counts documents, not bytes, and keeps failed ones with all their errors:
    // the document cache (createDocumentCache) replaces it.
    parserAndValidationCache: false,
    graphiql: graphiqlOptions,
    renderGraphiQL: createGraphiQLRenderer(assets),
    // Never development mode: it would attach original errors and stacks to responses.
    maskedErrors: { isDev: false },
    logging: logger,
    plugins: [
      // The fast lane's view of the plugins: every one from here to pluginList.last is the app's.
      pluginList.first,
      // First, so that the operation's span covers every other plugin's work.
      ...traces.plugins,
      // Ready means: this process serves (it got past its configuration, it listens) and is
      // not draining. Not Flatpeak's state: when Flatpeak fails, every replica would turn
      // unready at once, and callers would get connection failures instead of coded errors.
      useReadinessEndpoint(() => !isStopping()),
      useStatusEndpoint({ ready: () => !isStopping(), standin: config.standin, upstream: monitor.status }),
      useGraphQLMetrics(metrics.registry),
      useGraphiQLAssets(assets),
      // After the probes and GraphiQL's files: any other path is not GraphQL's either, /metrics
      // included (it is served on METRICS_PORT only: src/http/metrics-server.ts).
      useEndpointOnly(GRAPHQL_ENDPOINT),
      // Before the onResponse hooks that decorate the answer (x-request-id, cache-control),
      // so that they decorate its replacement too.
      useNotAcceptable(),
      strictParsing,
      useParseLimits(),
      useArmorLimits(),
      // Validation rules, added for the documents the document cache has not validated yet
      // (documents.validatingUnknown): those it knows skip validation, and need no rules.
      documents.validatingUnknown(useKnownOperationTypes()),
      // Before anything that may stop execution (useCallerRequired): a plugin's onExecuteDone
      // runs only if its onExecute ran, and the request's deadline timer and context would
      // otherwise be held until the deadline.
      useRequestEnd(),
      ...(config.callers.mode === 'jwt' ? [useCallerRequired()] : []),
      // After the 401 of a caller without a token who asks for more than the schema.
      documents.validatingUnknown(useIntrospectionLimit({ limiter: introspectionLimiter })),
      useVariableErrorCode(),
      useCacheControl(config.deviceCache.ttlMs > 0),
      useRequestLog(logger, traces.traceIdOf),
      useUpstreamErrorLog(logger),
      // Consumers: persisted operations for the apps, @defer/@stream for slow screens,
      // ftv1 traces for a trusted router that asks for them (FTV1_TRACES on). A trace
      // carries the response's errors after masking, but also every resolver's timing.
      ...usePersistedOperationsMode(config.persistedOperations, redis ? createRedisRegistrations(redis, onSharedStateError) : undefined),
      documents.validatingUnknown(useDeferStream()),
      useDeferStreamArguments(),
      // Replaces the executor for queries run often; a router's traced request (ftv1) runs
      // uncompiled, so that its resolvers are traced once each.
      ...(compiledExecution
        ? [
            useCompiledExecution({
              rootFields: LOADER_QUERY_FIELDS,
              runsBeforeCompiling: LIMITS.runsBeforeCompiling.value,
              maxFields: LIMITS.compiledFields.value,
              maxDocuments: LIMITS.compiledDocuments.value,
              skip: config.federatedTraces ? (request) => request.headers.has('apollo-federation-include-trace') : undefined,
              onCompiledRun: metrics.compiledExecution,
            }),
          ]
        : []),
      useMultipartSubscriptions(),
      // After Yoga's result processors: a callback subscription's answer replaces theirs.
      useSubscriptionCallbacks({ emitter: callbacks, allowed: config.subscriptions.callbackUrls }),
      ...(config.federatedTraces ? [useFederatedTraces()] : []),
      bodyLimit,
      // What keeps callers from growing the heap with documents or holding up the others with
      // costly ones; after the persisted-operation plugins, which turn hashes into documents.
      documents.plugin,
      costlyRequests,
      documents.validatingUnknown(useValidationErrorLimit()),
      useBoundedErrorMessages(),
      // Last of the onParams hooks, so that its refusal is the result whatever came before.
      useAdmission(admission),
      // Last of the onResponse hooks: the answer it compresses carries every header the others set.
      useCompressedResponses(LIMITS.compressFromBytes.value),
      pluginList.last,
    ],
  });
  const lane = fastLane
    ? createFastLane(yoga as never, {
        endpoint: GRAPHQL_ENDPOINT,
        maxBodyBytes: LIMITS.largeBodyBytes.value,
        onServed: metrics.fastLane,
        plugins: pluginList,
        // The lane checks what these check (its differential test holds it to that), and takes
        // no large body, the only kind the costly-request lane makes wait before parsing.
        skippableRequestParse: new Set([strictParsing, bodyLimit, costlyRequests]),
        onStandAside: (reason) => logger.warn(reason),
      })
    : undefined;
  const webSockets = createWebSocketSubscriptions({
    yoga,
    authenticate,
    settings: {
      endpoint: GRAPHQL_ENDPOINT,
      maxConnections: config.subscriptions.maxWebSockets,
      keepAliveMs: config.subscriptions.webSocketKeepAliveMs,
      maxMessageBytes: LIMITS.webSocketMessageBytes.value,
      allowedOrigins,
    },
    logger,
    onOpen: metrics.transports.webSockets,
  });
  return {
    yoga,
    listener: admission.wrap(lane ?? yogaListener(yoga)),
    upgrade: webSockets.upgrade,
    async closeSubscriptions(graceMs) {
      await Promise.all([webSockets.close(graceMs), callbacks.close(graceMs)]);
    },
  };
}

function deadlineIn(ms: number): Deadline {
  return { signal: AbortSignal.timeout(ms), deadlineAt: Date.now() + ms };
}
