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

  it('calls every listener even when one throws, then throws the first error', () => {
    const lifetime = new Lifetime();
    const after = vi.fn();
    lifetime.addEventListener('abort', () => {
      throw new Error('listener failed');
    });
    lifetime.addEventListener('abort', after);
    expect(() => lifetime.end(new Error('done'))).toThrow('listener failed');
    expect(after).toHaveBeenCalledTimes(1);
    expect(lifetime.aborted).toBe(true);
  });
});
