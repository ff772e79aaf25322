import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RefusalReason } from './http/admission.ts';
import type { LiveObserver } from './live/live-devices.ts';
import type { Dependency, FailureReason } from './telemetry/dependency-failures.ts';
import type { DeviceReadObserver } from './upstream/device-source.ts';
import type { CircuitName, PolicyObserver } from './upstream/resilience.ts';
import type { UpstreamStatus } from './upstream/status.ts';

const CIRCUIT_STATES: readonly CircuitName[] = ['closed', 'open', 'half-open', 'isolated'];

export interface Metrics {
  /** One registry per app (not prom-client's global), so that apps never share counters. */
  readonly registry: Registry;
  readonly upstream: PolicyObserver;
  readonly deviceReads: DeviceReadObserver;
  /** Reports the adaptive concurrency limit (read at each scrape). */
  watchConcurrency(read: () => { limit: number; inFlight: number; queued: number }): void;
  readonly live: LiveObserver;
  /** Open graphql-transport-ws sockets and HTTP callback subscriptions (src/subscriptions/). */
  readonly transports: { readonly webSockets: (open: number) => void; readonly callbacks: (open: number) => void };
  /** A request answered by the fast lane (src/http/fast-lane.ts) rather than by Yoga's HTTP layer. */
  fastLane(): void;
  /** An operation run as graphql-jit compiled it (src/plugins/execution/use-compiled-execution.ts). */
  compiledExecution(): void;
  /** A request refused by the admission limits (src/http/admission.ts). */
  refused(reason: RefusalReason): void;
  /** Reports the requests and device loads in flight (read at each scrape). */
  watchRequests(read: () => { requests: number; deviceLoads: number }): void;
  /** A failure to fetch the JWKS, to log in to Flatpeak or to reach Redis (src/telemetry/dependency-failures.ts). */
  readonly dependencyFailure: (dependency: Dependency, reason: FailureReason) => void;
}

/**
 * An upstream outcome as the metrics show it. Flatpeak's 404 counts as `ok` (it answered):
 * whether a device exists is what a caller's request decides, and a count that told
 * NOT_FOUND from ok would tell anyone who can read the metrics, comparing them before and
 * after a request of theirs, whether someone else's device id exists (issue 21).
 */
const shownOutcome = (outcome: string): string => (outcome === 'NOT_FOUND' ? 'ok' : outcome);

/** Prometheus metrics of the upstream side; Yoga's plugin adds the GraphQL side to the same registry. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const calls = new Counter({
    name: 'flatpeak_upstream_calls_total',
    help: 'Calls to Flatpeak as the resolvers saw them (after retries), by outcome: ok (an answer, a 404 included) or the error code.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const attempts = new Histogram({
    name: 'flatpeak_upstream_attempt_duration_seconds',
    help: 'HTTP attempts to Flatpeak, by outcome: ok (an answer, a 404 included) or the error code.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'flatpeak_upstream_retries_total',
    help: 'Retries of calls to Flatpeak (within the retry budget).',
    registers: [registry],
  });
  const circuit = new Gauge({
    name: 'flatpeak_upstream_circuit_state',
    help: 'State of the circuit breaker to Flatpeak: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers: [registry],
  });
  const setCircuit = (current: CircuitName) => {
    for (const state of CIRCUIT_STATES) circuit.set({ state }, state === current ? 1 : 0);
  };
  setCircuit('closed');

  const reads = new Counter({
    name: 'flatpeak_device_reads_total',
    help: 'Device reads by where the answer came from: cache, stale (served while refreshed), coalesced (joined a call in flight) or upstream.',
    labelNames: ['source'],
    registers: [registry],
  });
  const cacheErrors = new Counter({
    name: 'flatpeak_device_cache_errors_total',
    help: 'Device cache operations that failed (the read then went to Flatpeak).',
    registers: [registry],
  });

  /** A gauge read from the service's own state at each scrape. */
  const scraped = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });

  let concurrency = () => ({ limit: 0, inFlight: 0, queued: 0 });
  scraped(
    'flatpeak_upstream_concurrency_limit',
    'Calls to Flatpeak allowed in flight now (adapts to Flatpeak’s latency and shedding).',
    () => Math.floor(concurrency().limit),
  );
  scraped('flatpeak_upstream_in_flight', 'Calls to Flatpeak in flight.', () => concurrency().inFlight);
  scraped('flatpeak_upstream_queued', 'Calls to Flatpeak waiting under the concurrency limit.', () => concurrency().queued);

  const polls = new Counter({
    name: 'flatpeak_device_polls_total',
    help: 'Polls of watched devices (deviceUpdated), by outcome: ok (an answer, a 404 included) or the error code.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'flatpeak_subscriptions_open',
    help: 'deviceUpdated subscriptions open now.',
    registers: [registry],
  });
  const pollers = new Gauge({
    name: 'flatpeak_device_pollers',
    help: 'Devices polled now: one poller per upstream credential and device.',
    registers: [registry],
  });
  const webSockets = new Gauge({
    name: 'flatpeak_websockets_open',
    help: 'graphql-transport-ws connections open now (MAX_WEBSOCKETS).',
    registers: [registry],
  });
  const callbacks = new Gauge({
    name: 'flatpeak_callback_subscriptions_open',
    help: "Subscriptions sending their events to a router's callback URL now (Apollo's HTTP callback protocol).",
    registers: [registry],
  });
  const fastLane = new Counter({
    name: 'flatpeak_http_fast_lane_requests_total',
    help: "GraphQL requests answered by the fast lane (plain JSON POSTs) rather than by Yoga's HTTP layer.",
    registers: [registry],
  });

  const compiled = new Counter({
    name: 'flatpeak_graphql_compiled_executions_total',
    help: "GraphQL operations run as graphql-jit compiled them rather than by Yoga's executor.",
    registers: [registry],
  });

  const refused = new Counter({
    name: 'flatpeak_http_requests_refused_total',
    help: 'Requests refused or cut off: overloaded (MAX_REQUESTS_IN_FLIGHT reached, answered 503), pipelining (the connection had too many requests waiting, closed) or slow-reader (unsent answers passed their budget, connection closed).',
    labelNames: ['reason'],
    registers: [registry],
  });
  let inFlight = () => ({ requests: 0, deviceLoads: 0 });
  scraped(
    'flatpeak_http_requests_in_flight',
    'GraphQL operations being worked on now, as MAX_REQUESTS_IN_FLIGHT counts them (open subscriptions aside).',
    () => inFlight().requests,
  );
  scraped(
    'flatpeak_device_loads_in_flight',
    'Device loads held by requests now, as MAX_DEVICE_LOADS_IN_FLIGHT counts them.',
    () => inFlight().deviceLoads,
  );

  const dependencyFailures = new Counter({
    name: 'flatpeak_dependency_failures_total',
    help: 'Failures to fetch the JWKS (jwks), to log in to Flatpeak with the service credentials (flatpeak_login) or to reach Redis (redis), by reason: unreachable, timeout, refused, server_error, rate_limited, bad_response or error.',
    labelNames: ['dependency', 'reason'],
    registers: [registry],
  });

  return {
    registry,
    dependencyFailure: (dependency, reason) => dependencyFailures.inc({ dependency, reason }),
    fastLane: () => fastLane.inc(),
    compiledExecution: () => compiled.inc(),
    refused: (reason) => refused.inc({ reason }),
    watchRequests(read) {
      inFlight = read;
    },
    watchConcurrency(read) {
      concurrency = read;
    },
    live: {
      poll: (outcome) => polls.inc({ outcome: shownOutcome(outcome) }),
      open(open, polling) {
        subscriptions.set(open);
        pollers.set(polling);
      },
    },
    transports: {
      webSockets: (open) => webSockets.set(open),
      callbacks: (open) => callbacks.set(open),
    },
    deviceReads: {
      read: (source) => reads.inc({ source }),
      cacheError: () => cacheErrors.inc(),
    },
    upstream: {
      call: (outcome) => calls.inc({ outcome: shownOutcome(outcome) }),
      attempt: (outcome, seconds) => attempts.observe({ outcome: shownOutcome(outcome) }, seconds),
      retry: () => retries.inc(),
      circuit: setCircuit,
    },
  };
}

/**
 * Flatpeak's state as gauges, read from the status at scrape time (a scrape may trigger a
 * probe, at most once per interval): for dashboards and alerts, not readiness.
 */
export function registerUpstreamStatusMetrics(
  registry: Registry,
  status: () => Promise<UpstreamStatus>,
  { serviceCredentials, standin }: { serviceCredentials: boolean; standin: boolean },
): void {
  // Always present, so that an alert on `flatpeak_upstream_standin == 1` needs no absent() twin.
  new Gauge({
    name: 'flatpeak_upstream_standin',
    help: 'Whether the upstream is the development stand-in serving sample data (FLATPEAK_STANDIN): 1 or 0. Never 1 in production.',
    registers: [registry],
  }).set(standin ? 1 : 0);
  new Gauge({
    name: 'flatpeak_upstream_reachable',
    help: 'Whether the last probe of Flatpeak (GET /devices?limit=1) succeeded: 1 or 0.',
    registers: [registry],
    async collect() {
      const { probe } = await status();
      if (probe) this.set(probe.ok ? 1 : 0);
    },
  });
  if (!serviceCredentials) return; // pass-through never logs in
  new Gauge({
    name: 'flatpeak_upstream_login_ok',
    help: 'Whether the last login to Flatpeak with the service credentials succeeded: 1 or 0.',
    registers: [registry],
    async collect() {
      const { login } = await status();
      if (login) this.set(login.ok ? 1 : 0);
    },
  });
}
