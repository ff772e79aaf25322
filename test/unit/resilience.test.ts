import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { FacadeError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import type { GiveUpSignal } from '../../src/request/lifetime.ts';
import { type CircuitName, createUpstreamPolicy, type ResilienceSettings } from '../../src/upstream/resilience.ts';

const settings: ResilienceSettings = {
  attemptTimeoutMs: 60_000,
  maxRetries: 0,
  retryBudgetRatio: 0.2,
  breakerFailureRatio: 0.5,
  breakerWindowMs: 10_000,
  breakerMinCalls: 1_000_000,
  breakerOutageFailures: 1_000_000,
  breakerOutageMs: 600_000,
  breakerCooldownMs: 5_000,
  maxConcurrent: 1,
  maxQueue: 5,
};
const logger = createLogger('silent');
const call = (signal = new AbortController().signal) => ({ signal, deadlineAt: Date.now() + 60_000, what: 'device dev_1' });

function gate<T>(value: T) {
  let open!: () => void;
  const promise = new Promise<T>((resolve) => {
    open = () => resolve(value);
  });
  return { promise, open };
}

describe('upstream policy', () => {
  it('keeps the queue moving when a queued caller gives up', async () => {
    const policy = createUpstreamPolicy(settings, { logger });
    const first = gate('first');
    const running = policy.run(() => first.promise, call());

    const gone = new AbortController();
    const abandoned = policy.run(async () => 'never wanted', call(gone.signal));
    const waiting = policy.run(async () => 'third', call());
    gone.abort();
    await expect(abandoned).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });

    first.open();
    expect(await running).toBe('first');
    // The abandoned entry is dequeued, gives its slot back, and the third call runs.
    expect(await waiting).toBe('third');
  });

  it('stays open when the half-open probe’s caller gives up', async () => {
    const policy = createUpstreamPolicy({ ...settings, maxConcurrent: 10, breakerMinCalls: 2, breakerCooldownMs: 50 }, { logger });
    const outage = () => Promise.reject(new FacadeError('UPSTREAM_UNAVAILABLE', 'down', { status: 503 }));
    await expect(policy.run(outage, call())).rejects.toThrow();
    await expect(policy.run(outage, call())).rejects.toThrow();
    expect(policy.circuit()).toBe('open');

    // After the cool-down the next call is the probe; its caller leaves before Flatpeak answers.
    const gone = new AbortController();
    const attempt = vi.fn(
      (signal: GiveUpSignal) =>
        new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    await vi.waitFor(async () => {
      const probe = policy.run(attempt, call(gone.signal)).catch((error: unknown) => error);
      expect(attempt).toHaveBeenCalled(); // else the circuit was still open: try again
      gone.abort();
      expect(await probe).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    });
    await vi.waitFor(() => expect(policy.circuit()).toBe('open'));
  });
});

describe('circuit breaker, with the default settings', () => {
  // Cockatiel's breakers read Date.now(): the clock is faked, and advanced call by call.
  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * A policy with the shipped defaults (retries included) and a driver that makes calls
   * at `perSecond`, each attempt failing when `fails(n)` says so for the n-th attempt.
   */
  function traffic() {
    vi.useFakeTimers({ toFake: ['Date'] });
    const transitions: CircuitName[] = [];
    const policy = createUpstreamPolicy(loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com' }).upstream, {
      logger,
      observer: { call() {}, attempt() {}, retry() {}, circuit: (state) => transitions.push(state) },
      random: () => 0, // no backoff: each call's retries happen at its own instant
    });
    let attempts = 0;
    let failedAttempts = 0;
    return {
      policy,
      transitions,
      failedAttempts: () => failedAttempts,
      /** Makes `calls` calls, or fewer if `until` turns true; returns how many it made. */
      async run(calls: number, perSecond: number, fails: (attempt: number) => boolean, until: () => boolean = () => false) {
        for (let made = 0; made < calls; made += 1) {
          if (until()) return made;
          vi.setSystemTime(Date.now() + 1000 / perSecond);
          await policy
            .run(async () => {
              attempts += 1;
              if (!fails(attempts)) return 'ok';
              failedAttempts += 1;
              throw new FacadeError('UPSTREAM_UNAVAILABLE', 'down', { status: 503 });
            }, call())
            .catch(() => undefined);
        }
        return calls;
      },
    };
  }
  const never = () => false;
  const always = () => true;

  it.each([
    ['at full load (500 calls/s)', 500, 5_000],
    ['at a low load (20 calls/s)', 20, 2_000],
  ])('opens within 1 s or 50 failed attempts of a total outage, after thousands of successful calls, %s', async (_, perSecond, healthy) => {
    const t = traffic();
    await t.run(healthy, perSecond, never);
    expect(t.policy.circuit()).toBe('closed');

    const outageStart = Date.now();
    const before = t.failedAttempts();
    await t.run(10_000, perSecond, always, () => t.policy.circuit() === 'open');
    expect(t.policy.circuit()).toBe('open');
    const failed = t.failedAttempts() - before;
    const elapsed = Date.now() - outageStart;
    expect(failed <= 50 || elapsed <= 1_000, `${failed} failed attempts over ${elapsed} ms`).toBe(true);
    expect(failed).toBeLessThanOrEqual(50);
    expect(elapsed).toBeLessThanOrEqual(1_000);
  });

  it.each([
    ['one attempt in ten, at full load', 500, (n: number) => n % 10 === 0],
    ['one attempt in ten, at a low load', 20, (n: number) => n % 10 === 0],
    ['bursts of five in every fifty attempts, at full load', 500, (n: number) => n % 50 < 5],
    ['bursts of five in every fifty attempts, at a low load', 20, (n: number) => n % 50 < 5],
  ])('never opens at a one-in-ten error rate: %s', async (_, perSecond, fails) => {
    const t = traffic();
    await t.run(2_000, perSecond, never);
    await t.run(6_000, perSecond, fails);
    expect(t.failedAttempts()).toBeGreaterThan(500);
    expect(t.transitions).toEqual([]);
    expect(t.policy.circuit()).toBe('closed');
  });
});

describe('writes (idempotent: false)', () => {
  const retrying = { ...settings, maxRetries: 2, retryBudgetRatio: 1, maxConcurrent: 10 };
  const write = () => ({ ...call(), idempotent: false });

  it('are not retried after a 503: the request reached Flatpeak', async () => {
    const policy = createUpstreamPolicy(retrying, { logger, random: () => 0 });
    let attempts = 0;
    const failing = () => {
      attempts += 1;
      return Promise.reject(new FacadeError('UPSTREAM_UNAVAILABLE', 'down', { status: 503 }));
    };
    await expect(policy.run(failing, write())).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(attempts).toBe(1);
    // The same failure on a read is retried.
    attempts = 0;
    await expect(policy.run(failing, call())).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(attempts).toBe(3);
  });

  it('are not retried after a connection reset, but are after a refused connection', async () => {
    const policy = createUpstreamPolicy(retrying, { logger, random: () => 0 });
    const transport = (code: string) =>
      new FacadeError('UPSTREAM_UNAVAILABLE', 'unreachable', undefined, { cause: Object.assign(new Error(code), { code }) });
    let attempts = 0;
    await expect(
      policy.run(() => {
        attempts += 1;
        return Promise.reject(transport('ECONNRESET'));
      }, write()),
    ).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(attempts).toBe(1);

    attempts = 0;
    const value = await policy.run(() => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(transport('ECONNREFUSED')) : Promise.resolve('created');
    }, write());
    expect(value).toBe('created');
    expect(attempts).toBe(2);
  });
});
