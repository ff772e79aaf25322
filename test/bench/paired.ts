/**
 * A paired A/B: two sides measured in short rounds alternating A, B, B, A…, after an
 * unmeasured round each, so that whatever else the machine does weighs on both alike.
 * Shared by the bench's own A/Bs (run.ts) and by `npm run bench:ab` (ab.ts).
 */
import { type Load, type Measured, measure, type RunOptions } from './load.ts';
import { pairedSummary } from './report.ts';
import type { Target } from './servers.ts';

/** One side of a paired A/B: a server and what it is sent. */
export interface Side {
  readonly name: string;
  readonly target: Target;
  readonly load: Load;
}

export interface PairedOptions {
  readonly rounds: number;
  readonly roundSeconds: number;
  readonly connections: number;
  /** Open-loop, as load.ts sends it; absent: closed-loop. */
  readonly rate?: RunOptions['rate'];
  readonly upstreamStats: RunOptions['upstreamStats'];
}

export async function alternate(label: string, a: Side, b: Side, options: PairedOptions): Promise<string> {
  const { rounds: count, roundSeconds, connections, rate, upstreamStats } = options;
  const rounds = new Map<Side, Measured[]>([
    [a, []],
    [b, []],
  ]);
  const run = (side: Side, seconds: number) =>
    measure(side.target.urls, side.target.pids, side.load, { seconds, warmupSeconds: 0, connections, rate, upstreamStats });
  for (const side of [a, b]) await run(side, 2); // warm-up
  for (let i = 0; i < count; i += 1) {
    for (const side of i % 2 === 0 ? [a, b] : [b, a]) rounds.get(side)!.push(await run(side, roundSeconds));
  }
  const summary = pairedSummary({
    label: `${label}, ${rate === undefined ? '' : `${rate} req/s over at most `}${connections} connections, ${count} alternating rounds × ${roundSeconds} s per side`,
    a: { name: a.name, rounds: rounds.get(a)! },
    b: { name: b.name, rounds: rounds.get(b)! },
  });
  // An answer with an error is cheaper and proves nothing: say so under the table.
  const failures = [a, b].flatMap((side) => {
    const failed = rounds.get(side)!.filter((round) => round.errorShare > 0);
    return failed.length > 0
      ? [`\nNOTE: ${side.name} answered with errors in ${failed.length} rounds; first: ${failed[0]!.firstFailure ?? '?'}`]
      : [];
  });
  return summary + failures.join('');
}
