/**
 * A seeded PRNG for the bench's workloads: Math.random would send different ids on every
 * run, and runs (and the servers within one) could no longer be compared request for request.
 */

/** mulberry32 over a 32-bit FNV-1a hash of `seed`: small, fast, and good enough to spread ids. */
export function seededRandom(seed: string): () => number {
  let state = 0x811c9dc5;
  for (const char of seed) state = Math.imul(state ^ char.charCodeAt(0), 0x01000193);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `k` distinct integers in [0, n), in the order drawn (rejection: k is far below n here). */
export function distinctIndices(random: () => number, n: number, k: number): number[] {
  if (k > n) throw new RangeError(`cannot draw ${k} distinct values from ${n}`);
  const drawn = new Set<number>();
  while (drawn.size < k) drawn.add(Math.floor(random() * n));
  return [...drawn];
}
