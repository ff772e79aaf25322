import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { createMetricsServer } from '../../src/http/metrics-server.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { DEMO_ACCOUNT_ID } from '../../tools/standin/data.ts';
import { DEMO_API_KEY, type Standin, type StandinOptions, startStandin } from '../../tools/standin/server.ts';
import { connectRedis } from '../../src/redis.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createDependencyFailures } from '../../src/telemetry/dependency-failures.ts';
import { createTracing } from '../../src/telemetry/tracing.ts';
import { createDispatcher } from '../../src/upstream/dispatcher.ts';
import type { Dispatcher } from 'undici';

export interface GraphQLResponse<T> extends ExecutionResult<T> {
  errors?: ExecutionResult['errors'] & Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface Harness {
  readonly standin: Standin;
  /** The facade's GraphQL endpoint, on its own ephemeral loopback port. */
  readonly url: URL;
  /** The facade's HTTP server (to see its side of a connection, e.g. when it closes). */
  readonly server: Server;
  /** As main.ts on SIGTERM, after `shutdownSignal`: resolves when the subscriptions' last messages are out. */
  closeSubscriptions(graceMs: number): Promise<void>;
  /** The facade's `/metrics`, on a port of its own as main.ts serves it (METRICS_PORT). */
  readonly metricsUrl: URL;
  query<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables> | string,
    variables?: TVariables,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: GraphQLResponse<TData> }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** `service` logs in with the stand-in's demo account; `pass-through` forwards callers' tokens. */
  readonly mode?: 'service' | 'pass-through';
  readonly env?: Record<string, string>;
  readonly standin?: StandinOptions;
  readonly isStopping?: () => boolean;
  /** Where the facade logs; by default nowhere. */
  readonly logger?: Logger;
  /** The connection pool to the stand-in; by default the service's own. */
  readonly dispatcher?: (config: Config) => Dispatcher;
  /** Ends open subscriptions when aborted, as SIGTERM does in main.ts. */
  readonly shutdownSignal?: AbortSignal;
  /** False: every request through Yoga's HTTP layer (the fast lane off). */
  readonly fastLane?: boolean;
  /** False: every operation run by Yoga's executor, none compiled (src/plugins/execution/use-compiled-execution.ts). */
  readonly compiledExecution?: boolean;
}

/** A real stand-in upstream and a real facade, each listening on its own loopback port. */
export async function startHarness({
  mode = 'service',
  env = {},
  standin: standinOptions,
  isStopping,
  logger,
  dispatcher: makeDispatcher,
  shutdownSignal,
  fastLane,
  compiledExecution,
}: HarnessOptions = {}): Promise<Harness> {
  const standin = await startStandin({ acceptAnyBearer: mode === 'pass-through', ...standinOptions });
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    FLATPEAK_API_URL: standin.url.href,
    // Most tests are about devices, not callers: no caller authentication, no per-caller limit.
    ...(mode === 'service' ? { FLATPEAK_ACCOUNT_ID: DEMO_ACCOUNT_ID, FLATPEAK_API_KEY: DEMO_API_KEY, CALLER_AUTH: 'none' } : {}),
    RATE_LIMIT_PER_SECOND: '0',
    INTROSPECTION_PER_MINUTE: '0',
    ...env,
  });
  const dispatcher = makeDispatcher ? makeDispatcher(config) : createDispatcher(config.upstream);
  const log = logger ?? createLogger(config.logLevel);
  // As main.ts: the Redis connection, made before the app, reports into the app's metrics.
  const metrics = createMetrics();
  const onDependencyFailure = createDependencyFailures({ logger: log, count: metrics.dependencyFailure });
  const redis = config.redisUrl ? connectRedis(config.redisUrl, { logger: log, onFailure: onDependencyFailure }) : undefined;
  const tracing = await createTracing(config.tracing, log);
  const app = createApp({
    config,
    upstreamUrl: standin.url,
    dispatcher,
    logger: log,
    redis,
    isStopping,
    shutdownSignal,
    tracing,
    fastLane,
    compiledExecution,
    metrics,
    onDependencyFailure,
  });
  const server: Server = createHttpServer(app.listener, undefined, app.upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(`http://127.0.0.1:${port}/graphql`);
  const metricsServer = createMetricsServer(metrics.registry);
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  const metricsUrl = new URL(`http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`);

  return {
    standin,
    url,
    server,
    closeSubscriptions: (graceMs) => app.closeSubscriptions(graceMs),
    metricsUrl,
    async query(document, variables, headers = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as never };
    },
    async close() {
      await app.closeSubscriptions(0);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      metricsServer.closeAllConnections();
      await new Promise((resolve) => metricsServer.close(resolve));
      await tracing?.shutdown(); // sends the spans still buffered
      await dispatcher.close();
      redis?.disconnect();
      await standin.close();
    },
  };
}

/** The `extensions.code` of each error, keyed by its path. */
export function codesByPath(body: GraphQLResponse<unknown>): Record<string, unknown> {
  return Object.fromEntries((body.errors ?? []).map((error) => [(error.path ?? []).join('.'), error.extensions?.code]));
}
