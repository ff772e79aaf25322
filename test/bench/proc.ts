/**
 * What a server process costs, read from outside through Linux's /proc: CPU time (user +
 * system) and resident memory. CPU time is disturbed far less than req/s by other work on a
 * shared machine, which is why the bench reports it per request.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** user + system CPU time of a process so far, in microseconds (resolution: one clock tick). */
export function cpuMicros(pid: number): number {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    return (ticks * 1e6) / CLOCK_TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process, in MB (VmRSS). */
export function rssMb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export const clockTicksPerSecond = CLOCK_TICKS_PER_S;

/** The machine's cores, counted before this process is pinned to one of them. */
export const machineCores = availableParallelism();
/**
 * BENCH_PIN (on unless 0, on a machine of two cores or more): each server under test runs on
 * a core of its own, and the load generator and the stand-in share the other. Unpinned, the
 * three contend for two cores, and one build measured against itself differed by up to 40 %
 * in a round; pinned, what a server's CPU time counts is its own work.
 */
export const pinned = process.env.BENCH_PIN !== '0' && machineCores >= 2;

/** Every thread of these processes to one core (a no-op when not pinned). */
export function pinTo(core: number, pids: readonly number[]): void {
  if (!pinned) return;
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/** Servers under test go here; the load generator and the stand-in go to core 0. */
export const SERVER_CORE = 1;
