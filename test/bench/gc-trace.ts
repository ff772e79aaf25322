/**
 * What V8's young-generation collections did in a process run with `--trace-gc-nvp`
 * (`PROFILE=gc npm run bench:profile`): how long each scavenge paused the thread, and how
 * much of the young generation it kept (survived) and moved to the old one (promoted).
 * A request's objects should die young; what a scavenge keeps it copies, and what it
 * promotes stays until a full collection (docs/benchmarks.md, "What survives a scavenge").
 */
export interface ScavengeStats {
  readonly scavenges: number;
  readonly pauseMs: { readonly mean: number; readonly max: number };
  /** Mean bytes per scavenge. */
  readonly promoted: number;
  readonly survived: number;
  /** Full (mark-compact) collections in the same output. */
  readonly fullCollections: number;
}

/** The scavenges and full collections of `output` (the process's stdout, `--trace-gc-nvp`'s lines among it). */
export function scavengeStats(output: string): ScavengeStats {
  const pauses: number[] = [];
  let promoted = 0;
  let survived = 0;
  let fullCollections = 0;
  for (const line of output.split('\n')) {
    const kind = / gc=(\w+) /.exec(line)?.[1];
    if (kind === 'mc') fullCollections += 1;
    if (kind !== 's') continue;
    const field = (name: string) => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    pauses.push(field('pause'));
    promoted += field('promoted');
    survived += field('new_space_survived');
  }
  const n = Math.max(1, pauses.length);
  return {
    scavenges: pauses.length,
    pauseMs: { mean: pauses.reduce((a, b) => a + b, 0) / n, max: Math.max(0, ...pauses) },
    promoted: promoted / n,
    survived: survived / n,
    fullCollections,
  };
}
