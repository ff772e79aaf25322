import { describe, expect, it } from 'vitest';
import { createAdaptiveLimiter, LimiterAbandoned, LimiterQueueFull, type Outcome } from '../../src/upstream/limiter.ts';

/** Calls the test finishes by hand. */
function manual() {
  const calls: Array<{ owner: string; finish: (error?: Error) => void }> = [];
  return calls;
}

/** The limiter learns after the caller has its answer: let that happen. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('adaptive concurrency limiter', () => {
  let clock = 0;
  const now = () => clock;
  const classify = (error: unknown): Outcome => ((error as Error).message === 'shed' ? 'dropped' : 'ignore');

  function harness(settings: { initialLimit: number; maxLimit: number; maxQueue?: number }) {
    const limiter = createAdaptiveLimiter({ maxQueue: 1_000, ...settings, now });
    const calls = manual();
    const submit = (owner: object & { name: string }, signal = new AbortController().signal) =>
      limiter.run(
        () =>
          new Promise<string>((resolve, reject) => {
            calls.push({ owner: owner.name, finish: (error) => (error ? reject(error) : resolve(owner.name)) });
          }),
        { owner, signal, classify },
      );
    return { limiter, calls, submit };
  }

  it('grows while calls succeed at the usual latency and the limit is used, up to the ceiling', async () => {
    const { limiter, calls, submit } = harness({ initialLimit: 4, maxLimit: 10 });
    const owner = { name: 'a' };
    const pending: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round += 1) {
      while (limiter.inFlight + limiter.queued < limiter.limit + 2) pending.push(submit(owner));
      clock += 20;
      for (const call of calls.splice(0)) call.finish();
      await settled();
    }
    expect(limiter.limit).toBe(10);
    expect(limiter.inFlight).toBeLessThanOrEqual(10);
  });

  it('does not grow when idle: a limit that is not used has not earned a raise', async () => {
    const { limiter, calls, submit } = harness({ initialLimit: 8, maxLimit: 100 });
    for (let i = 0; i < 50; i += 1) {
      const done = submit({ name: 'a' });
      clock += 20;
      calls.shift()!.finish();
      await done;
    }
    expect(limiter.limit).toBe(8);
  });

  it('shrinks by 10 % per shed call (429, 503, timeout) and on a latency far above the usual, never below 1', async () => {
    const { limiter, calls, submit } = harness({ initialLimit: 10, maxLimit: 100 });
    const first = submit({ name: 'a' });
    clock += 20;
    calls.shift()!.finish();
    await first;
    const shed = submit({ name: 'a' }).catch((error: Error) => error.message);
    calls.shift()!.finish(new Error('shed'));
    expect(await shed).toBe('shed');
    await settled();
    expect(limiter.limit).toBeCloseTo(9);
    const slow = submit({ name: 'a' });
    const started = clock;
    clock = started + 200; // ten times the usual 20 ms
    calls.shift()!.finish();
    await slow;
    await settled();
    expect(limiter.limit).toBeCloseTo(8.1);
    for (let i = 0; i < 100; i += 1) {
      const call = submit({ name: 'a' }).catch(() => {});
      calls.shift()!.finish(new Error('shed'));
      await call;
    }
    expect(limiter.limit).toBe(1);
  });

  it('is not taught anything by a caller giving up', async () => {
    const { limiter, calls, submit } = harness({ initialLimit: 5, maxLimit: 100 });
    for (let i = 0; i < 20; i += 1) {
      const call = submit({ name: 'a' }).catch(() => {});
      calls.shift()!.finish(new Error('caller went away'));
      await call;
    }
    expect(limiter.limit).toBe(5);
  });

  it('serves waiting calls round-robin between requests: one that queued many does not hold back one that queued one', async () => {
    const { calls, submit } = harness({ initialLimit: 1, maxLimit: 1 });
    const big = { name: 'big' };
    const small = { name: 'small' };
    const order: string[] = [];
    const all = [...Array.from({ length: 5 }, () => submit(big)), submit(small)].map((call) => call.then((name) => order.push(name)));
    for (let i = 0; i < 6; i += 1) {
      await settled();
      calls.shift()!.finish();
    }
    await Promise.all(all);
    expect(order).toEqual(['big', 'big', 'small', 'big', 'big', 'big']);
  });

  it('refuses a call at once when the queue is full, and drops a queued call whose caller gave up without running it', async () => {
    const { limiter, calls, submit } = harness({ initialLimit: 1, maxLimit: 1, maxQueue: 1 });
    const running = submit({ name: 'a' });
    const controller = new AbortController();
    const queued = submit({ name: 'b' }, controller.signal);
    await expect(submit({ name: 'c' })).rejects.toBeInstanceOf(LimiterQueueFull);
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(LimiterAbandoned);
    expect(limiter.queued).toBe(0);
    calls.shift()!.finish();
    await running;
    expect(calls).toHaveLength(0); // b never started
  });
});
