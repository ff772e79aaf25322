import { describe, expect, it, vi } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createCoalescer, WAKE_BATCH } from '../../src/upstream/coalescer.ts';
import type { GiveUpSignal } from '../../src/request/lifetime.ts';

const gaveUp = () => new Error('gave up');

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('in-flight coalescing', () => {
  it('makes one call per key in flight, however many wait, and a new one once it has settled', async () => {
    const coalescer = createCoalescer();
    const upstream = deferred<string>();
    const start = vi.fn(() => upstream.promise);
    const waiters = Array.from({ length: 10 }, () => coalescer.run('svc:dev_1', new AbortController().signal, start, gaveUp));
    expect(start).toHaveBeenCalledTimes(1);
    upstream.resolve('device');
    expect(await Promise.all(waiters)).toEqual(Array(10).fill('device'));
    expect(coalescer.inFlight).toBe(0);
    await coalescer.run('svc:dev_1', new AbortController().signal, async () => 'again', gaveUp);
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('never shares between keys (another credential, another id)', async () => {
    const coalescer = createCoalescer();
    const start = vi.fn(async (signal: GiveUpSignal) => signal);
    await Promise.all([
      coalescer.run('token:A:dev_1', new AbortController().signal, start, gaveUp),
      coalescer.run('token:B:dev_1', new AbortController().signal, start, gaveUp),
      coalescer.run('token:A:dev_2', new AbortController().signal, start, gaveUp),
    ]);
    expect(start).toHaveBeenCalledTimes(3);
  });

  it('shares a failure with every waiter', async () => {
    const coalescer = createCoalescer();
    const upstream = deferred<string>();
    const a = coalescer.run('k', new AbortController().signal, () => upstream.promise, gaveUp);
    const b = coalescer.run('k', new AbortController().signal, () => upstream.promise, gaveUp);
    upstream.reject(new Error('503'));
    await expect(a).rejects.toThrow('503');
    await expect(b).rejects.toThrow('503');
  });

  it('keeps the call going while anyone waits, and aborts it when the last waiter gives up', async () => {
    const coalescer = createCoalescer();
    let callSignal: GiveUpSignal | undefined;
    const upstream = deferred<string>();
    const start = (signal: GiveUpSignal) => {
      callSignal = signal;
      return upstream.promise;
    };
    const first = new AbortController();
    const second = new AbortController();
    const a = coalescer.run('k', first.signal, start, gaveUp);
    const b = coalescer.run('k', second.signal, start, gaveUp);
    first.abort();
    await expect(a).rejects.toThrow('gave up');
    expect(callSignal!.aborted).toBe(false);
    second.abort();
    await expect(b).rejects.toThrow('gave up');
    expect(callSignal!.aborted).toBe(true);
    expect(coalescer.inFlight).toBe(0);
  });

  it('wakes the waiters of a settled call a batch per event-loop turn, and a new caller meanwhile starts a call of its own', async () => {
    const coalescer = createCoalescer();
    const upstream = deferred<string>();
    const start = vi.fn(() => upstream.promise);
    let woken = 0;
    const waiters = Array.from({ length: WAKE_BATCH * 2 + 1 }, () =>
      coalescer.run('k', new AbortController().signal, start, gaveUp).then(() => (woken += 1)),
    );
    upstream.resolve('device');
    await upstream.promise;
    await Promise.resolve(); // the waiters' own continuations
    expect(woken).toBe(WAKE_BATCH);
    // A request answered in the first batch asks again before the rest are woken.
    const again = coalescer.run('k', new AbortController().signal, async () => 'fresh', gaveUp);
    expect(start).toHaveBeenCalledTimes(1);
    await expect(again).resolves.toBe('fresh');
    await nextTurn();
    expect(woken).toBe(WAKE_BATCH * 2);
    await Promise.all(waiters);
    expect(woken).toBe(WAKE_BATCH * 2 + 1);
  });

  it('a waiter that gives up before its batch is woken gets its own error, not the answer', async () => {
    const coalescer = createCoalescer();
    const upstream = deferred<string>();
    const last = new AbortController();
    const early = Array.from({ length: WAKE_BATCH }, () =>
      coalescer.run('k', new AbortController().signal, () => upstream.promise, gaveUp),
    );
    const late = coalescer.run('k', last.signal, () => upstream.promise, gaveUp);
    upstream.resolve('device');
    await Promise.all(early);
    last.abort();
    await expect(late).rejects.toThrow('gave up');
  });
});
