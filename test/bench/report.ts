/** The bench's output: Markdown tables that can be pasted into an issue note as they are. */
import { quantile } from './call-rounds.ts';
import type { Measured } from './load.ts';

export interface Row extends Measured {
  readonly latencyMs: number;
  /** Client connections of the load generator during the run (open loop: at most this many). */
  readonly connections: number;
  /** Open loop: the requests sent per second, answered or not. Absent: closed loop. */
  readonly rate?: number | undefined;
  readonly workload: string;
  readonly server: string;
  /** RSS of the server's processes when it had just started, before any load. */
  readonly rssIdleMb?: number;
  /** False when the row has no upstream or CPU figures of interest (the stand-in itself). */
  readonly isGraphql: boolean;
}

/** `server`'s row for the same workload, latency and load as `row`. */
const peerRow = (rows: readonly Row[], row: Row, server: string) =>
  rows.find(
    (other) =>
      other.server === server &&
      other.workload === row.workload &&
      other.latencyMs === row.latencyMs &&
      other.connections === row.connections &&
      other.rate === row.rate,
  );

/** The load column: closed-loop connections, or the open loop's rate. */
export const loadOf = (row: Row) => (row.rate === undefined ? `${row.connections} conns` : `${row.rate} req/s`);

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const percent = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.001 ? 2 : 1)} %`;

export function resultsTable(rows: readonly Row[]): string {
  const lines = [
    '| latency | load | workload | server | req/s | p50 ms | p99 ms | errors | upstream/req | CPU µs/req | RSS MB idle → after |',
    '|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.latencyMs} ms | ${loadOf(row)} | ${row.workload} | ${row.server} | ${fixed(row.rps)} | ${fixed(row.p50)} | ${fixed(row.p99)} | ${percent(row.errorShare)} | ` +
        `${row.isGraphql ? fixed(row.upstreamPerRequest, 2) : '–'} | ${fixed(row.cpuUsPerRequest)} | ` +
        `${row.rssIdleMb === undefined ? '' : `${fixed(row.rssIdleMb)} → `}${fixed(row.rssAfterMb)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * One server against each reference on the same workload, latency and load: req/s,
 * CPU per request and p99 as ratios server / reference (CPU and p99: below 1 is cheaper).
 */
export function ratiosTable(rows: readonly Row[], server: string, references: readonly string[]): string {
  const header = references.map((reference) => `${server} / ${reference}: req/s × | CPU/req × | p99 × `).join('| ');
  const lines = [`| latency | load | workload | ${header}|`, `|---:|---:|---|${'---:|'.repeat(3 * references.length)}`];
  for (const row of rows) {
    if (row.server !== server) continue;
    const cells = references.map((reference) => {
      const base = peerRow(rows, row, reference);
      return base
        ? // At a fixed rate every server serves the rate: its req/s compare nothing.
          `${row.rate === undefined ? fixed(row.rps / base.rps, 2) : '–'} | ${fixed(row.cpuUsPerRequest / base.cpuUsPerRequest, 2)} | ${fixed(row.p99 / Math.max(1, base.p99), 2)}`
        : '– | – | –';
    });
    lines.push(`| ${row.latencyMs} ms | ${loadOf(row)} | ${row.workload} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export interface PairedRounds {
  readonly label: string;
  readonly a: { readonly name: string; readonly rounds: readonly Measured[] };
  readonly b: { readonly name: string; readonly rounds: readonly Measured[] };
}

/**
 * A/B in alternating short rounds: CPU per request of each side over all its rounds, the
 * ratio of those, and the spread of the per-round ratios (round i of B against round i of A);
 * p99 is the median of a side's rounds' p99s (each round's own; one slow round moves it little).
 */
export function pairedSummary({ label, a, b }: PairedRounds): string {
  const total = (rounds: readonly Measured[]) => {
    const requests = rounds.reduce((n, round) => n + round.requests, 0);
    const cpu = rounds.reduce((n, round) => n + round.cpuUs, 0);
    const bytes = rounds.reduce((n, round) => n + round.bytesPerAnswer * round.requests, 0);
    const rps = rounds.reduce((n, round) => n + round.rps, 0) / Math.max(1, rounds.length);
    const p99 = quantile(
      rounds.map((round) => round.p99),
      0.5,
    );
    return { cpuPerRequest: cpu / Math.max(1, requests), bytesPerAnswer: bytes / Math.max(1, requests), rps, p99 };
  };
  const ta = total(a.rounds);
  const tb = total(b.rounds);
  const perRound = a.rounds.map((round, i) => b.rounds[i]!.cpuUsPerRequest / round.cpuUsPerRequest).sort((x, y) => x - y);
  return [
    `| ${label} | req/s | p99 ms | CPU µs/req | bytes/answer |`,
    '|---|---:|---:|---:|---:|',
    `| ${a.name} | ${fixed(ta.rps)} | ${fixed(ta.p99, 1)} | ${fixed(ta.cpuPerRequest)} | ${fixed(ta.bytesPerAnswer)} |`,
    `| ${b.name} | ${fixed(tb.rps)} | ${fixed(tb.p99, 1)} | ${fixed(tb.cpuPerRequest)} | ${fixed(tb.bytesPerAnswer)} |`,
    `| ${b.name} − ${a.name} | | | ${fixed(tb.cpuPerRequest - ta.cpuPerRequest)} | ${fixed(tb.bytesPerAnswer - ta.bytesPerAnswer)} |`,
    `| ratio ${b.name} / ${a.name} | ${fixed(tb.rps / ta.rps, 2)} | ${fixed(tb.p99 / ta.p99, 2)} | ${fixed(tb.cpuPerRequest / ta.cpuPerRequest, 2)} (rounds ${fixed(perRound[0] ?? Number.NaN, 2)}–${fixed(perRound.at(-1) ?? Number.NaN, 2)}) | ${fixed(tb.bytesPerAnswer / ta.bytesPerAnswer, 2)} |`,
  ].join('\n');
}

export interface BoundOptions {
  /** The server whose rows are bounded: one that keeps no answer (device cache off). */
  readonly server: string;
  readonly baseline: string;
  /** Workloads whose every request asks for the same one device. */
  readonly sameDevice: readonly string[];
  /** Workloads whose every request asks for one device (the same or not). */
  readonly oneDevice: readonly string[];
}

/**
 * What no server can beat when it keeps no answer and shares one upstream call per device in
 * flight, read off the rows themselves. Without a cache, an answer comes only from a call in
 * flight when the request arrived, and every call is started by a request that then waits for
 * all of it. Two consequences:
 * - a connection asking for one device again and again gets at most one answer per call of
 *   that device (its next request arrives after the call that answered it), so at most
 *   connections / latency requests per second;
 * - where each request asks for one device, upstream/req is the share of requests that
 *   started a call; above 0.01, p99 is at least the upstream latency.
 */
export function cacheOffBounds(rows: readonly Row[], { server, baseline, sameDevice, oneDevice }: BoundOptions): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    if (row.server !== server || row.latencyMs <= 0 || row.rate !== undefined) continue;
    const base = peerRow(rows, row, baseline);
    if (!base) continue;
    const at = `${row.latencyMs} ms, ${row.workload}`;
    if (sameDevice.includes(row.workload)) {
      const ceiling = (row.connections * 1000) / row.latencyMs;
      lines.push(
        `${at}: req/s at most ${row.connections} connections / ${row.latencyMs} ms = ${fixed(ceiling)}, ${fixed(ceiling / base.rps, 2)}× ${baseline}`,
      );
    }
    if (oneDevice.includes(row.workload) && row.upstreamPerRequest > 0.01) {
      lines.push(
        `${at}: ${fixed(row.upstreamPerRequest * 100)} % of requests started a call, so p99 is at least ${row.latencyMs} ms, ` +
          `${fixed(row.latencyMs / Math.max(1, base.p99), 2)}× ${baseline}'s`,
      );
    }
  }
  return lines;
}
