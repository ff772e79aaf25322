import { BrokenCircuitError, CircuitState, SamplingBreaker } from 'cockatiel';
import { FacadeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { GiveUpSignal } from '../request/lifetime.ts';
import { AnyBreaker, OutageBreaker } from './breakers.ts';
import { Circuit } from './circuit.ts';
import { createAdaptiveLimiter, LimiterAbandoned, LimiterQueueFull, type Outcome } from './limiter.ts';
import { createRetryBudget } from './retry-budget.ts';
import { promiseOf } from '../promise-of.ts';

export interface ResilienceSettings {
  /** Time allowed for one attempt, connect to last byte. */
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt, at most. */
  readonly maxRetries: number;
  /** Retries may add at most this share of recent calls. */
  readonly retryBudgetRatio: number;
  /** Share of failed attempts within the window that opens the circuit. */
  readonly breakerFailureRatio: number;
  /** The window over which the failure share is measured. */
  readonly breakerWindowMs: number;
  /** Attempts needed within the window before the circuit may open (no verdict on a handful). */
  readonly breakerMinCalls: number;
  /** Failed attempts in a row (no success between) that open the circuit, whatever came before. */
  readonly breakerOutageFailures: number;
  /** Failed attempts in a row for this long (at least 10 of them) also open it. */
  readonly breakerOutageMs: number;
  /** How long an open circuit fails fast before letting one probe through. */
  readonly breakerCooldownMs: number;
  /** Upstream calls in flight at once, at most (the connection pool): the adaptive limit's ceiling. */
  readonly maxConcurrent: number;
  /** Calls allowed to wait for a free slot; beyond that, new calls fail at once. */
  readonly maxQueue: number;
}

export interface PolicyCall {
  /** Aborts when the GraphQL request's deadline passes or its client goes away. */
  readonly signal: GiveUpSignal;
  /** When the GraphQL request's deadline passes (epoch ms): no retry is planned past it. */
  readonly deadlineAt: number;
  /** What is being fetched, for error messages ("device dev_…"). */
  readonly what: string;
  /** Whose call it is (one GraphQL request): waiting calls are served round-robin between owners. */
  readonly owner?: object;
  /**
   * False for a write (POST, PATCH): it is retried only when it certainly never reached
   * Flatpeak, since a second POST could create a second device. Reads by default.
   */
  readonly idempotent?: boolean;
}

/**
 * One try at a call: it ends when `signal` (the caller's) aborts, and by itself once
 * `timeoutMs` has passed, rejecting either way. The timeout is the attempt's own to keep
 * (the client's exchange sets one timer), so that no controller and listener are made
 * per attempt around it.
 */
export type Attempt<T> = (signal: GiveUpSignal, timeoutMs: number) => Promise<T>;

export type CircuitName = 'closed' | 'open' | 'half-open' | 'isolated';

/** What the policy reports as it works (metrics); outcomes are `ok` or an error code. */
export interface PolicyObserver {
  call(outcome: string): void;
  attempt(outcome: string, seconds: number): void;
  retry(): void;
  circuit(state: CircuitName): void;
}

const ignore: PolicyObserver = { call() {}, attempt() {}, retry() {}, circuit() {} };

export interface UpstreamPolicy {
  /** Runs `attempt` with timeouts, retries, breaker and limits. */
  run<T>(attempt: Attempt<T>, call: PolicyCall): Promise<T>;
  circuit(): CircuitName;
  /** The adaptive concurrency limit now, and the calls in flight and waiting under it. */
  concurrency(): { limit: number; inFlight: number; queued: number };
}

const BACKOFF_BASE_MS = 50;
/** Failures in a row needed before their duration alone opens the circuit (see OutageBreaker). */
const OUTAGE_MIN_FAILURES = 10;
const BACKOFF_MAX_MS = 2_000;

const CIRCUIT_NAMES: Record<CircuitState, CircuitName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** The caller stopped waiting (deadline, disconnect): not Flatpeak's fault, never retried or counted. */
class CallerGaveUp extends Error {}

const isGiveUp = (error: Error) => error instanceof CallerGaveUp || error instanceof LimiterAbandoned || error instanceof LimiterQueueFull;

/** What an attempt's failure says about Flatpeak's capacity, for the concurrency limit. */
function congestionOf(error: unknown): Outcome {
  if (!(error instanceof FacadeError)) return 'ignore'; // the caller gave up: no news about Flatpeak
  const shed = error.code === 'RATE_LIMITED' || error.code === 'UPSTREAM_TIMEOUT' || error.code === 'UPSTREAM_UNAVAILABLE';
  return shed ? 'dropped' : 'ok';
}

/** The concurrency limit starts here and adapts (see limiter.ts). */
const INITIAL_CONCURRENCY = 32;
const ANYONE = {};

/** Flatpeak is failing: what opens the circuit. */
const isOutage = (error: Error) =>
  error instanceof FacadeError && (error.code === 'UPSTREAM_UNAVAILABLE' || error.code === 'UPSTREAM_TIMEOUT');

/** Worth another try for an idempotent read: the connection failed, a gateway error, or 429. */
function isTransient(error: Error): boolean {
  if (!(error instanceof FacadeError)) return false;
  if (error.code === 'RATE_LIMITED') return true;
  if (error.code !== 'UPSTREAM_UNAVAILABLE') return false;
  const status = error.upstream?.status;
  return status === undefined || status === 502 || status === 503 || status === 504;
}

/** Codes of connection failures that happen before a single byte of the request is sent. */
const NEVER_SENT = new Set(['ECONNREFUSED']);

/** The request never left this machine (the connection was refused), so repeating it cannot repeat a write. */
function neverSent(error: Error): boolean {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NEVER_SENT.has(code);
}

/**
 * The upstream policies: the circuit (circuit.ts, opened by cockatiel's breakers), the adaptive concurrency limit
 * from limiter.ts, and a retry loop of our own: each delay is planned from that call's error
 * and deadline, and every wait ends on the caller's signal (cockatiel's retry does not end
 * its backoff on it, which took a race around every call). One instance per upstream
 * origin, shared by every request:
 *
 *   retry (per call: budget, backoff with jitter, Retry-After, deadline)
 *     └ circuit breaker (fails fast while open)
 *         └ adaptive concurrency limit (bounded queue, round-robin between requests: backpressure)
 *             └ attempt with its own timeout
 */
export function createUpstreamPolicy(
  settings: ResilienceSettings,
  {
    logger,
    observer = ignore,
    now = Date.now,
    random = Math.random,
  }: { logger: Logger; observer?: PolicyObserver; now?: () => number; random?: () => number },
): UpstreamPolicy {
  // Two triggers. A failure *rate* over a window, for a Flatpeak failing part of the time
  // (one burst of concurrent timeouts, from a cold start or a GC pause, is not enough).
  // And a run of failures with nothing but failures, for a total outage: the rate alone
  // would wait for the failures to outweigh every success of the window (hundreds of
  // failed calls at full load) before it opened. While half-open, the probe's caller
  // giving up proves nothing about Flatpeak: it counts as a failure, since any error that
  // is not one closes the circuit (Flatpeak answered, as cockatiel reads it).
  const circuit = new Circuit({
    isFailure: (error, state) => error instanceof Error && (isOutage(error) || (state === CircuitState.HalfOpen && isGiveUp(error))),
    cooldownMs: settings.breakerCooldownMs,
    breaker: new AnyBreaker([
      new SamplingBreaker({
        threshold: settings.breakerFailureRatio,
        duration: settings.breakerWindowMs,
        minimumRps: settings.breakerMinCalls / (settings.breakerWindowMs / 1000),
      }),
      new OutageBreaker({
        failures: settings.breakerOutageFailures,
        durationMs: settings.breakerOutageMs,
        minFailures: Math.min(OUTAGE_MIN_FAILURES, settings.breakerOutageFailures),
        now,
      }),
    ]),
    onStateChange: (state) => {
      const circuit = CIRCUIT_NAMES[state];
      const log = circuit === 'closed' ? logger.info.bind(logger) : logger.warn.bind(logger);
      log({ circuit }, `Flatpeak circuit ${circuit}`);
      observer.circuit(circuit);
    },
    now,
  });
  const limiter = createAdaptiveLimiter({
    initialLimit: Math.min(INITIAL_CONCURRENCY, settings.maxConcurrent),
    maxLimit: settings.maxConcurrent,
    maxQueue: settings.maxQueue,
  });
  const budget = createRetryBudget({ ratio: settings.retryBudgetRatio, now });

  /**
   * One attempt, given the time it may take; a failure after the caller gave up is the
   * caller's, not Flatpeak's. Not an async function: the attempt's promise, followed once,
   * is all it needs (it runs once per device).
   */
  function attemptOnce<T>(attempt: Attempt<T>, signal: GiveUpSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(new CallerGaveUp());
    const started = performance.now();
    return promiseOf(attempt, signal, settings.attemptTimeoutMs).then(
      (value) => {
        observer.attempt('ok', (performance.now() - started) / 1000);
        return value;
      },
      (error: unknown) => {
        if (signal.aborted) throw new CallerGaveUp();
        observer.attempt(outcomeOf(error), (performance.now() - started) / 1000);
        throw error;
      },
    );
  }

  /** After a failure: how long to wait before trying again, or undefined not to. */
  function retryDelay(error: unknown, retries: number, { signal, deadlineAt, idempotent = true }: PolicyCall): number | undefined {
    if (retries >= settings.maxRetries || signal.aborted || !(error instanceof Error) || !isTransient(error)) return undefined;
    if (!idempotent && !neverSent(error)) return undefined;
    const backoff = random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (retries + 1)); // full jitter
    const delay = Math.max(backoff, (error as FacadeError).retryAfterMs ?? 0);
    // No retry that could not finish before the deadline, nor past the budget.
    if (now() + delay + Math.min(settings.attemptTimeoutMs, 250) > deadlineAt) return undefined;
    return budget.tryRetry() ? delay : undefined;
  }

  /** One try: through the circuit, then a slot under the concurrency limit, then the attempt. */
  function once<T>(attempt: Attempt<T>, { signal, owner = ANYONE }: PolicyCall): Promise<T> {
    return circuit.run(() => limiter.run(() => attemptOnce(attempt, signal), { owner, signal, classify: congestionOf }));
  }

  const succeeded = <T>(value: T): T => {
    observer.call('ok');
    return value;
  };

  /** What the caller is told when the call has failed for good. */
  function failed(error: unknown, what: string): unknown {
    const translated = translate(error, what);
    observer.call(outcomeOf(translated));
    return translated;
  }

  /** After the first try failed: the retries, each waiting its delay, until one succeeds or none is due. */
  async function retried<T>(first: unknown, attempt: Attempt<T>, call: PolicyCall): Promise<T> {
    let error = first;
    try {
      for (let retries = 0; ; retries += 1) {
        const delay = retryDelay(error, retries, call);
        if (delay === undefined) throw error;
        observer.retry();
        await backoff(delay, call.signal);
        try {
          return succeeded(await once(attempt, call));
        } catch (next) {
          error = next;
        }
      }
    } catch (final) {
      throw failed(final, call.what);
    }
  }

  return {
    /**
     * The retry loop. Every wait in it ends when the caller gives up: the limiter's queue
     * (abandoned on the signal), the attempt (which ends on it) and the backoff (a timer with
     * the signal), so the caller's deadline is kept without a race around the whole. The
     * first try is followed without an async function (it runs once per device, and nearly
     * always succeeds); the retries are `retried`'s.
     */
    run<T>(attempt: Attempt<T>, call: PolicyCall): Promise<T> {
      // Not worth a place in the queue.
      if (call.signal.aborted) return Promise.reject(failed(new CallerGaveUp(), call.what));
      budget.recordCall();
      return promiseOf(once, attempt, call).then(succeeded, (error: unknown) => retried(error, attempt, call));
    },
    circuit: () => CIRCUIT_NAMES[circuit.state],
    concurrency: () => ({ limit: limiter.limit, inFlight: limiter.inFlight, queued: limiter.queued }),
  };
}

/** Settles with `promise`, or rejects with `aborted()` as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: GiveUpSignal, aborted: () => Error): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {}); // whatever it becomes now, nobody is waiting for it
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms` before a retry; rejects with CallerGaveUp as soon as `signal` aborts. */
function backoff(ms: number, signal: GiveUpSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new CallerGaveUp());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CallerGaveUp());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const outcomeOf = (error: unknown): string => (error instanceof FacadeError ? error.code : 'unexpected');

function translate(error: unknown, what: string): unknown {
  if (error instanceof FacadeError) return error;
  if (error instanceof CallerGaveUp || error instanceof LimiterAbandoned) {
    return new FacadeError('UPSTREAM_TIMEOUT', `Flatpeak did not answer for ${what} before the request's deadline`);
  }
  if (error instanceof BrokenCircuitError) {
    return new FacadeError('UPSTREAM_UNAVAILABLE', `Flatpeak is failing; calls for ${what} are paused for a short cool-down`);
  }
  if (error instanceof LimiterQueueFull) {
    return new FacadeError('UPSTREAM_OVERLOADED', `Too many calls to Flatpeak are waiting; ${what} was not requested`);
  }
  return error;
}

/** No retries, breaker, limits or attempt timeout: for unit tests of the client alone. */
export const directPolicy: UpstreamPolicy = {
  run: (attempt, { signal }) => attempt(signal, Number.POSITIVE_INFINITY),
  circuit: () => 'closed',
  concurrency: () => ({ limit: Number.POSITIVE_INFINITY, inFlight: 0, queued: 0 }),
};
