import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { gracefulCloser } from './graceful-close.ts';
import { createHttpServer, HTTP_TIMEOUTS } from './http/server.ts';
import { createMetricsServer } from './http/metrics-server.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { connectRedis } from './redis.ts';
import { handleStrayErrors } from './stray-errors.ts';
import { createDependencyFailures } from './telemetry/dependency-failures.ts';
import { createTracing } from './telemetry/tracing.ts';
import { createDispatcher } from './upstream/dispatcher.ts';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`flatpeak-graph cannot start. ${error.message}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
handleStrayErrors(process, { logger, exit: (code) => process.exit(code) });

const upstreamUrl = config.flatpeakApiUrl;

let stopping = false;
const closingStreams = new AbortController();
const dispatcher = createDispatcher(config.upstream);
// Made before the app: the Redis connection reports its failures from its first attempt.
const metrics = createMetrics();
const onDependencyFailure = createDependencyFailures({ logger, count: metrics.dependencyFailure });
const redis = config.redisUrl ? connectRedis(config.redisUrl, { logger, onFailure: onDependencyFailure }) : undefined;
const tracing = await createTracing(config.tracing, logger);
const app = createApp({
  config,
  upstreamUrl,
  dispatcher,
  logger,
  redis,
  isStopping: () => stopping,
  shutdownSignal: closingStreams.signal,
  tracing,
  metrics,
  onDependencyFailure,
});
// A request may stay silent until its deadline: only past that is a connection stalled.
const server = createHttpServer(
  app.listener,
  { ...HTTP_TIMEOUTS, stalledMs: Math.max(HTTP_TIMEOUTS.stalledMs, config.requestDeadlineMs + 5_000) },
  app.upgrade,
);
const closeGracefully = gracefulCloser(server);

server.on('error', (error) => {
  logger.fatal({ err: error }, 'the server could not listen');
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // The line a newcomer reads: whether the data is real, and whether a token sent means anything.
  const sampleData = config.standin ? ' serving SAMPLE DATA from the development stand-in (not Flatpeak)' : '';
  const tokens =
    config.callers.mode === 'none' ? '; CALLER_AUTH=none: Authorization headers are ignored, every caller reads every device' : '';
  logger.info(
    {
      url: `http://${host}:${port}/graphql`,
      mode: config.serviceCredentials ? 'service-credentials' : 'pass-through',
      callerAuth: config.callers.mode,
      upstream: config.standin ? 'standin' : 'flatpeak',
      sampleData: config.standin,
      ...(config.callers.mode === 'none' ? { tokens: 'ignored' } : {}),
    },
    `flatpeak-graph listening on http://${host}:${port}/graphql${sampleData}${tokens}`,
  );
  if (config.callers.mode === 'none' && !config.standin) {
    logger.warn(
      { callerAuth: 'none' },
      'CALLER_AUTH=none: callers are not authenticated and every caller reads every device of the account; only a router on a trusted network may reach this service',
    );
  }
});

// Prometheus scrapes its own port: the counters add up every caller's requests, and are
// no business of the apps that reach the GraphQL port.
const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(metrics.registry);
metricsServer?.on('error', (error) => {
  logger.fatal({ err: error }, 'the metrics server could not listen (METRICS_PORT)');
  process.exit(1);
});
metricsServer?.listen(config.metricsPort, config.host, () => {
  const { port } = metricsServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info({ url: `http://${host}:${port}/metrics` }, `metrics on http://${host}:${port}/metrics`);
});

/**
 * SIGTERM: `/ready` turns unready at once; after SHUTDOWN_DELAY_MS (time for a load
 * balancer to notice and stop sending) the listener closes, idle keep-alive connections
 * with it; requests in flight get the grace period to finish; then the upstream pool
 * closes. Ctrl-C (SIGINT) skips the delay: nobody is routing to a terminal.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const delayMs = signal === 'SIGTERM' ? config.shutdownDelayMs : 0;
  logger.info(
    { signal, delayMs, graceMs: config.shutdownGraceMs },
    'shutting down: unready now, then no new connections, finishing requests in flight',
  );
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  // Subscriptions never finish on their own: end them (SHUTTING_DOWN, then the stream's
  // proper end) so that their responses complete within the grace period like any other.
  closingStreams.abort();
  // WebSockets and callbacks are not HTTP requests in flight: their last messages are awaited apart.
  await Promise.all([
    closeGracefully(config.shutdownGraceMs, () => logger.warn('grace period over: closing the connections still open')),
    app.closeSubscriptions(config.shutdownGraceMs),
  ]);
  metricsServer?.close();
  await tracing?.shutdown(); // the spans of the last requests
  await dispatcher.close();
  redis?.disconnect();
  logger.info('stopped');
  process.exit(0);
}
// A failed step must still end the process: the rejection handler would only log it, and
// the process would linger with its listener closed.
const stop = (signal: string) =>
  void shutdown(signal).catch((error: unknown) => {
    logger.fatal({ err: error }, 'shutdown failed');
    process.exit(1);
  });
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
