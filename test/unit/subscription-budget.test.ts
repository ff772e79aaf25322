import { expect, it } from 'vitest';
import { subscriptionsTheHeapHolds } from '../../src/live/subscription-budget.ts';

const MB = 1024 * 1024;

it('gives the figures docs/operations.md states for the heap limits V8 reports', () => {
  // --max-old-space-size=256 --max-semi-space-size=32 (the documented NODE_OPTIONS): 256 + 3 × 32.
  expect(subscriptionsTheHeapHolds(352 * MB)).toBe(2_048);
  // --max-old-space-size=256 alone on Node 24 (semi-spaces of 64 MB): 256 + 3 × 64, the replica issue 21 exhausted.
  expect(subscriptionsTheHeapHolds(448 * MB)).toBe(4_096);
  // 128 MB more of old space: 2,730 more.
  expect(subscriptionsTheHeapHolds(480 * MB) - subscriptionsTheHeapHolds(352 * MB)).toBe(2_730);
  // A heap too small for any budget still takes a few; no flags at all leaves MAX_SUBSCRIPTIONS (10,000) in charge.
  expect(subscriptionsTheHeapHolds(192 * MB)).toBe(100);
  expect(subscriptionsTheHeapHolds(4288 * MB)).toBeGreaterThan(10_000);
});
