import { CircuitState, type IBreaker } from 'cockatiel';

/** Opens when any of its breakers would; each of them sees every outcome. */
export class AnyBreaker implements IBreaker {
  constructor(private readonly breakers: readonly IBreaker[]) {}

  get state(): unknown {
    return this.breakers.map((breaker) => breaker.state);
  }

  set state(value: unknown) {
    (value as unknown[]).forEach((state, index) => {
      this.breakers[index]!.state = state;
    });
  }

  success(state: CircuitState): void {
    for (const breaker of this.breakers) breaker.success(state);
  }

  failure(state: CircuitState): boolean {
    let open = false;
    for (const breaker of this.breakers) open = breaker.failure(state) || open;
    return open;
  }
}

export interface OutageBreakerOptions {
  /** Failures in a row that open the circuit. */
  readonly failures: number;
  /** Failures in a row for this long also open it, once there are `minFailures` of them. */
  readonly durationMs: number;
  readonly minFailures: number;
  readonly now?: () => number;
}

/**
 * A total outage: failures with no success between them, either many of them or for long
 * enough. A failure *ratio* over a window cannot see one quickly after a healthy period:
 * thousands of earlier successes dilute it. The minimum keeps a quiet service (a call
 * every few seconds) from opening on two unlucky failures: ten in a row at a 10 % error
 * rate happen once in 10^10.
 */
export class OutageBreaker implements IBreaker {
  private run: { failures: number; since: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: OutageBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): unknown {
    return this.run ?? null;
  }

  set state(value: unknown) {
    this.run = (value as { failures: number; since: number } | null) ?? undefined;
  }

  success(): void {
    this.run = undefined;
  }

  failure(state: CircuitState): boolean {
    const now = this.now();
    this.run ??= { failures: 0, since: now };
    this.run.failures += 1;
    if (state !== CircuitState.Closed) return true; // a failed half-open probe re-opens, as in cockatiel's breakers
    const { failures, durationMs, minFailures } = this.options;
    return this.run.failures >= failures || (this.run.failures >= minFailures && now - this.run.since >= durationMs);
  }
}
