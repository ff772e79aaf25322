import { describe, expect, it, vi } from 'vitest';
import { RequestLifetime } from '../../src/request/lifetime.ts';

describe('a request lifetime', () => {
  it('calls each listener still registered once when it ends, and none after', () => {
    const lifetime = new RequestLifetime();
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

  it('gives a real AbortSignal that aborts with it, with its reason, whether made before or after the end', () => {
    const before = new RequestLifetime();
    const signal = before.signal;
    expect(signal.aborted).toBe(false);
    const reason = new Error('deadline');
    before.end(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);

    const after = new RequestLifetime();
    after.end(reason);
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe(reason);
    expect(after.signal).toBe(after.signal);
  });
});
