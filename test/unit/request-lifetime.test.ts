import { describe, expect, it, vi } from 'vitest';
import { Lifetime } from '../../src/request/lifetime.ts';

describe('a lifetime', () => {
  it('calls each listener still registered once when it ends, and none after', () => {
    const lifetime = new Lifetime();
    const kept = vi.fn();
    const removed = vi.fn();
    lifetime.addEventListener('abort', kept);
    lifetime.addEventListener('abort', removed);
    lifetime.removeEventListener('abort', removed);
    expect(lifetime.aborted).toBe(false);
    lifetime.end(new Error('done'));
    lifetime.end(new Error('again'));
    const late = vi.fn();
    lifetime.addEventListener('abort', late);
    expect(lifetime.aborted).toBe(true);
    expect(kept).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });

  it('calls an object listener’s handleEvent, and reports its reason', () => {
    const lifetime = new Lifetime();
    const listener = { handleEvent: vi.fn() };
    const removed = { handleEvent: vi.fn() };
    lifetime.addEventListener('abort', listener);
    lifetime.addEventListener('abort', removed);
    lifetime.removeEventListener('abort', removed);
    expect(lifetime.reason).toBeUndefined();
    const reason = new Error('every waiter gave up');
    lifetime.end(reason);
    expect(listener.handleEvent).toHaveBeenCalledTimes(1);
    expect(removed.handleEvent).not.toHaveBeenCalled();
    expect(lifetime.reason).toBe(reason);
  });

  it('gives a real AbortSignal that aborts with it, with its reason, whether made before or after the end', () => {
    const before = new Lifetime();
    const signal = before.signal;
    expect(signal.aborted).toBe(false);
    const reason = new Error('deadline');
    before.end(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);

    const after = new Lifetime();
    after.end(reason);
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe(reason);
    expect(after.signal).toBe(after.signal);
  });
});
