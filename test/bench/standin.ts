/**
 * The stand-in as the bench scripts drive it: a process of its own (standin-process.ts), so
 * that it shares no event loop with the load generator or a server under test, asked for
 * its counts and told its faults and latency over IPC.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { StandinCommand } from './standin-process.ts';

export interface StandinProcess {
  readonly url: string;
  readonly pid: number;
  /** One command, and the stand-in's reply to it. */
  ask<T>(command: StandinCommand): Promise<T>;
  /** Lets it go: it closes its server and exits. */
  stop(): void;
}

export async function forkStandin(): Promise<StandinProcess> {
  const child = fork(new URL('./standin-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [{ url }] = (await once(child, 'message')) as [{ url: string }];
  return {
    url,
    pid: child.pid!,
    ask<T>(command: StandinCommand) {
      child.send(command);
      return once(child, 'message').then(([reply]) => reply as T);
    },
    stop: () => child.disconnect(),
  };
}

/**
 * The stand-in's latency for `bench:profile` and `bench:ab`: BENCH_LATENCY_MS, 0 when unset
 * or empty (`npm run bench` takes its latencies from BENCH_LATENCIES instead: run.ts).
 */
export function latencyFromEnv(): number {
  const latencyMs = Number(process.env.BENCH_LATENCY_MS || 0);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new Error(`BENCH_LATENCY_MS: milliseconds, 0 or more, got ${process.env.BENCH_LATENCY_MS}`);
  }
  return latencyMs;
}
