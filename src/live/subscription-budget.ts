import { getHeapStatistics } from 'node:v8';

const KB = 1024;
const MB = 1024 * KB;

/**
 * Heap one open `deviceUpdated` subscription is budgeted: measured 33–34 KB over SSE
 * (`test/bench/subscription-heap.ts`: Node's socket, request and response, Yoga's and
 * envelop's per-request state, the Request and its stream, the execution's closures,
 * our context and queue), with room for the events in flight.
 */
export const SUBSCRIPTION_HEAP_BYTES = 48 * KB;

/**
 * Heap that is not the subscriptions': V8's young generation, which takes its share of
 * `heap_size_limit` (up to 3 × 64 MB semi-spaces, Node 24's default; 96 MB with the
 * documented `--max-semi-space-size=32`), and the service itself with its traffic (~64 MB).
 * `heap_size_limit` does not say how it splits into old and young space, so this assumes
 * the larger young generation: the bound then holds whichever flags the replica runs with.
 */
export const HEAP_RESERVED_BYTES = 256 * MB;

/** However small the heap, a few subscriptions are allowed (100 take ~3.4 MB). */
const AT_LEAST = 100;

/**
 * The subscriptions this process's heap holds: what `MAX_SUBSCRIPTIONS` is lowered to when
 * it asks for more (issue 21: ~7,460 open SSE streams exhausted `--max-old-space-size=256`).
 * 2,048 with the documented `--max-old-space-size=256 --max-semi-space-size=32` (heap limit
 * 352 MB), 4,096 with `--max-old-space-size=256` alone (448 MB).
 */
export function subscriptionsTheHeapHolds(heapSizeLimit: number = getHeapStatistics().heap_size_limit): number {
  return Math.max(AT_LEAST, Math.floor((heapSizeLimit - HEAP_RESERVED_BYTES) / SUBSCRIPTION_HEAP_BYTES));
}
