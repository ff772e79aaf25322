import { BrokenCircuitError, CircuitState, type IBreaker } from 'cockatiel';
import { promiseOf } from '../promise-of.ts';

export interface CircuitOptions {
  /** Decides when the circuit opens from the outcomes it is told (cockatiel's breakers, breakers.ts). */
  readonly breaker: IBreaker;
  /** How long an open circuit fails fast before letting one probe through. */
  readonly cooldownMs: number;
  /** Whether an attempt's error counts against Flatpeak, in the state the attempt ran in; others count for nothing. */
  readonly isFailure: (error: unknown, state: CircuitState) => boolean;
  readonly onStateChange: (state: CircuitState) => void;
  readonly now: () => number;
}

/**
 * The circuit around each attempt, as cockatiel's `CircuitBreakerPolicy` runs it: closed,
 * open for the cool-down (attempts fail at once with cockatiel's `BrokenCircuitError`),
 * then half-open, where one probe decides and other attempts wait for its outcome. The
 * breakers that decide when it opens are cockatiel's `IBreaker`s.
 *
 * Cockatiel's policy wraps every attempt in two async functions and a result object:
 * four promises and about a kilobyte per device call (docs/benchmarks.md). A closed
 * circuit here follows the attempt's own promise once, with handlers made once.
 */
export class Circuit {
  #state: CircuitState = CircuitState.Closed;
  #openedAt = 0;
  /** While half-open: the probe, which every other attempt waits for. */
  #probe: Promise<unknown> | undefined;
  readonly #options: CircuitOptions;

  constructor(options: CircuitOptions) {
    this.#options = options;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Runs `attempt` as the circuit allows; rejects with `BrokenCircuitError` while it is open. */
  run<T>(attempt: () => Promise<T>): Promise<T> {
    switch (this.#state) {
      case CircuitState.Closed:
        return promiseOf(attempt).then(this.#closedSuccess as (value: T) => T, this.#closedFailure);
      case CircuitState.HalfOpen: {
        const probe = this.#probe;
        if (!probe) return this.#halfOpen(attempt);
        return probe.then(
          () => this.run(attempt),
          () => this.run(attempt),
        );
      }
      default:
        if (this.#options.now() - this.#openedAt < this.#options.cooldownMs) return Promise.reject(new BrokenCircuitError());
        return this.#halfOpen(attempt);
    }
  }

  readonly #closedSuccess = (value: unknown): unknown => {
    this.#options.breaker.success(CircuitState.Closed);
    return value;
  };

  readonly #closedFailure = (error: unknown): never => {
    // Judged in the state the attempt started in, closed. (Cockatiel's policy judged it in
    // the state at the end: a caller giving up on an attempt that started closed then
    // counted as a failure if a probe was running meanwhile, and reopened the circuit under
    // the probe. Only the probe's own outcome decides here.)
    if (this.#options.isFailure(error, CircuitState.Closed) && this.#options.breaker.failure(CircuitState.Closed)) this.#open();
    throw error;
  };

  #halfOpen<T>(attempt: () => Promise<T>): Promise<T> {
    this.#state = CircuitState.HalfOpen;
    const { breaker, isFailure } = this.#options;
    const probe = promiseOf(attempt).then(
      (value) => {
        breaker.success(CircuitState.HalfOpen);
        this.#close();
        return value;
      },
      (error: unknown) => {
        if (isFailure(error, CircuitState.HalfOpen)) {
          breaker.failure(CircuitState.HalfOpen);
          this.#open();
        } else {
          // Not Flatpeak's failure (a bad answer, a refusal): Flatpeak answered, as cockatiel reads it.
          this.#close();
        }
        throw error;
      },
    );
    this.#probe = probe;
    this.#told(CircuitState.HalfOpen);
    return probe;
  }

  #open(): void {
    if (this.#state === CircuitState.Open) return;
    this.#openedAt = this.#options.now();
    this.#probe = undefined;
    this.#set(CircuitState.Open);
  }

  #close(): void {
    if (this.#state !== CircuitState.HalfOpen) return;
    this.#probe = undefined;
    this.#set(CircuitState.Closed);
  }

  #set(state: CircuitState): void {
    this.#state = state;
    this.#told(state);
  }

  /** Told once the state is whole: a log or a metric that fails must not fail the attempt, nor leave a probe unset. */
  #told(state: CircuitState): void {
    try {
      this.#options.onStateChange(state);
    } catch {
      // Nothing to do: the circuit itself is in its new state.
    }
  }
}
