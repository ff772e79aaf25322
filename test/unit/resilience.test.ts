import { describe, expect, it, vi } from 'vitest';
import { FacadeError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { createUpstreamPolicy, type ResilienceSettings } from '../../src/upstream/resilience.ts';

const settings: ResilienceSettings = {
  attemptTimeoutMs: 60_000,
  maxRetries: 0,
  retryBudgetRatio: 0.2,
  breakerFailureRatio: 0.5,
  breakerWindowMs: 10_000,
  breakerMinCalls: 1_000_000,
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
    const attempt = vi.fn((signal: AbortSignal) => new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))));
    await vi.waitFor(async () => {
      const probe = policy.run(attempt, call(gone.signal)).catch((error: unknown) => error);
      expect(attempt).toHaveBeenCalled(); // else the circuit was still open: try again
      gone.abort();
      expect(await probe).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    });
    await vi.waitFor(() => expect(policy.circuit()).toBe('open'));
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
    const transport = (code: string) => new FacadeError('UPSTREAM_UNAVAILABLE', 'unreachable', undefined, { cause: Object.assign(new Error(code), { code }) });
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
