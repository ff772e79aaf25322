/**
 * What the in-process call-path benches (call-path.ts, call-path-ab.ts) measure a round by:
 * the CPU time of this process per call, while `workers` loops make calls until `calls`
 * have been made.
 */

/**
 * CPU µs of this process per call: `workers` loops, each awaiting `step()` in turn until
 * `calls` calls are made, `callsPerStep` of them per step.
 */
export async function cpuMicrosPerCall(calls: number, workers: number, step: () => Promise<unknown>, callsPerStep = 1): Promise<number> {
  let next = 0;
  const started = process.cpuUsage();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < calls) {
        next += callsPerStep;
        await step();
      }
    }),
  );
  const used = process.cpuUsage(started);
  return (used.user + used.system) / calls;
}

/** The value at `q` (0 the least, 0.5 the median, 1 the most) of `values`. */
export const quantile = (values: readonly number[], q: number): number =>
  [...values].sort((x, y) => x - y)[Math.round(q * (values.length - 1))]!;
