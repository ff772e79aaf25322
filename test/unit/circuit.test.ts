import { BrokenCircuitError, CircuitState, ConsecutiveBreaker } from 'cockatiel';
import { describe, expect, it, vi } from 'vitest';
import { Circuit } from '../../src/upstream/circuit.ts';

class Outage extends Error {}
class Refused extends Error {}

/** A circuit that opens after two outages in a row, with a clock the test moves. */
function circuit() {
  let time = 0;
  const states: CircuitState[] = [];
  const subject = new Circuit({
    breaker: new ConsecutiveBreaker(2),
    cooldownMs: 1_000,
    isFailure: (error) => error instanceof Outage,
    onStateChange: (state) => states.push(state),
    now: () => time,
  });
  const fail = () => subject.run(() => Promise.reject(new Outage()));
  return { subject, states, fail, wait: (ms: number) => (time += ms) };
}

function gate() {
  let open!: () => void;
  const promise = new Promise<string>((resolve) => {
    open = () => resolve('probe');
  });
  return { promise, open };
}

describe('circuit', () => {
  it('opens when its breaker says so, and fails fast without calling Flatpeak until the cool-down is over', async () => {
    const c = circuit();
    await expect(c.fail()).rejects.toBeInstanceOf(Outage);
    expect(c.subject.state).toBe(CircuitState.Closed);
    await expect(c.fail()).rejects.toBeInstanceOf(Outage);
    expect(c.subject.state).toBe(CircuitState.Open);

    const attempt = vi.fn(async () => 'ok');
    await expect(c.subject.run(attempt)).rejects.toBeInstanceOf(BrokenCircuitError);
    c.wait(999);
    await expect(c.subject.run(attempt)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(attempt).not.toHaveBeenCalled();
    expect(c.states).toEqual([CircuitState.Open]);
  });

  it('lets one probe through after the cool-down; the others wait for it, and run once it closes the circuit', async () => {
    const c = circuit();
    await c.fail().catch(() => {});
    await c.fail().catch(() => {});
    c.wait(1_000);

    const probe = gate();
    const probing = c.subject.run(() => probe.promise);
    expect(c.subject.state).toBe(CircuitState.HalfOpen);
    const other = vi.fn(async () => 'other');
    const waiting = c.subject.run(other);
    await Promise.resolve();
    expect(other).not.toHaveBeenCalled();

    probe.open();
    expect(await probing).toBe('probe');
    expect(await waiting).toBe('other');
    expect(c.subject.state).toBe(CircuitState.Closed);
    expect(c.states).toEqual([CircuitState.Open, CircuitState.HalfOpen, CircuitState.Closed]);
  });

  it('opens again when the probe fails, and those waiting for it fail fast', async () => {
    const c = circuit();
    await c.fail().catch(() => {});
    await c.fail().catch(() => {});
    c.wait(1_000);

    const probing = c.subject.run(() => Promise.reject(new Outage()));
    const other = vi.fn(async () => 'other');
    const waiting = c.subject.run(other);
    await expect(probing).rejects.toBeInstanceOf(Outage);
    await expect(waiting).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(other).not.toHaveBeenCalled();
    expect(c.states).toEqual([CircuitState.Open, CircuitState.HalfOpen, CircuitState.Open]);

    // A new cool-down from the failed probe.
    c.wait(999);
    await expect(c.subject.run(other)).rejects.toBeInstanceOf(BrokenCircuitError);
    c.wait(1);
    expect(await c.subject.run(other)).toBe('other');
  });

  it('closes when the probe fails in a way that is not an outage (Flatpeak answered), and passes that error on', async () => {
    const c = circuit();
    await c.fail().catch(() => {});
    await c.fail().catch(() => {});
    c.wait(1_000);
    await expect(c.subject.run(() => Promise.reject(new Refused()))).rejects.toBeInstanceOf(Refused);
    expect(c.subject.state).toBe(CircuitState.Closed);
  });

  it('counts no error but failures against Flatpeak, and a synchronous throw as a rejection', async () => {
    const c = circuit();
    await expect(c.subject.run(() => Promise.reject(new Refused()))).rejects.toBeInstanceOf(Refused);
    await expect(c.fail()).rejects.toBeInstanceOf(Outage);
    await expect(
      c.subject.run(() => {
        throw new Refused();
      }),
    ).rejects.toBeInstanceOf(Refused);
    // Not two outages in a row for the breaker: refusals are neither successes nor failures to it.
    expect(c.subject.state).toBe(CircuitState.Closed);
    await expect(c.fail()).rejects.toBeInstanceOf(Outage);
    expect(c.subject.state).toBe(CircuitState.Open);
  });
});

describe('circuit, with a probe running', () => {
  it('is decided by the probe alone: a caller giving up on an attempt that started closed does not reopen it', async () => {
    class GaveUp extends Error {}
    let time = 0;
    const subject = new Circuit({
      breaker: new ConsecutiveBreaker(2),
      cooldownMs: 1_000,
      // As resilience.ts: a caller giving up counts only against a probe.
      isFailure: (error, state) => error instanceof Outage || (state === CircuitState.HalfOpen && error instanceof GaveUp),
      onStateChange: () => {},
      now: () => time,
    });
    let giveUp!: () => void;
    const early = subject.run(
      () =>
        new Promise<string>((_resolve, reject) => {
          giveUp = () => reject(new GaveUp());
        }),
    );
    await subject.run(() => Promise.reject(new Outage())).catch(() => {});
    await subject.run(() => Promise.reject(new Outage())).catch(() => {});
    time += 1_000;
    const probe = gate();
    const probing = subject.run(() => probe.promise);

    giveUp();
    await expect(early).rejects.toBeInstanceOf(GaveUp);
    expect(subject.state).toBe(CircuitState.HalfOpen);
    probe.open();
    expect(await probing).toBe('probe');
    expect(subject.state).toBe(CircuitState.Closed);
  });
});

describe('circuit, told of its states', () => {
  it('keeps working when what it tells of a state change throws (a log, a metric)', async () => {
    let time = 0;
    const subject = new Circuit({
      breaker: new ConsecutiveBreaker(1),
      cooldownMs: 1_000,
      isFailure: (error) => error instanceof Outage,
      onStateChange: () => {
        throw new Error('the log is broken');
      },
      now: () => time,
    });
    await expect(subject.run(() => Promise.reject(new Outage()))).rejects.toBeInstanceOf(Outage);
    expect(subject.state).toBe(CircuitState.Open);
    time += 1_000;
    const probe = gate();
    const probing = subject.run(() => probe.promise);
    const waiting = subject.run(async () => 'after the probe');
    probe.open();
    expect(await probing).toBe('probe');
    expect(await waiting).toBe('after the probe');
    expect(subject.state).toBe(CircuitState.Closed);
  });
});
