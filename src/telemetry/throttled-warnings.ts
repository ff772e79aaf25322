import type { Logger } from '../logger.ts';

/**
 * How often one cause may be logged: an outage repeats the same failure on every request
 * and every reconnect attempt, and a log line a minute says it as well as thousands would.
 */
export const WARNING_INTERVAL_MS = 60_000;

/** Logs `message` at warn for `cause`, unless that cause was logged less than an interval ago. */
export type WarnThrottled = (cause: string, fields: Record<string, unknown>, message: string) => void;

/**
 * Warnings at most once per interval per cause. A line after a quiet spell says how many
 * of the same were left out since the previous one (`repeated`). Causes must come from a
 * bounded set (a dependency and a reason, not a message): one entry is kept per cause.
 */
export function createThrottledWarnings(
  logger: Logger,
  { intervalMs = WARNING_INTERVAL_MS, now = Date.now }: { intervalMs?: number; now?: () => number } = {},
): WarnThrottled {
  const lastLogged = new Map<string, { at: number; repeated: number }>();
  return (cause, fields, message) => {
    const t = now();
    const last = lastLogged.get(cause);
    if (last && t - last.at < intervalMs) {
      last.repeated += 1;
      return;
    }
    logger.warn(last?.repeated ? { ...fields, repeated: last.repeated } : fields, message);
    lastLogged.set(cause, { at: t, repeated: 0 });
  };
}
