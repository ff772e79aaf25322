import type { Logger } from './logger.ts';

export interface ReadinessOptions {
  /** True when Flatpeak is reachable and accepts our credentials. */
  readonly probe: () => Promise<boolean>;
  readonly intervalMs: number;
  readonly isStopping: () => boolean;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * `/ready`: an orchestrator may ask every second, but Flatpeak is asked at most once per
 * interval; probes in between get the last answer. A stopping server is never ready.
 */
export function createReadinessCheck({ probe, intervalMs, isStopping, logger, now = Date.now }: ReadinessOptions): () => Promise<boolean> {
  let last: { ready: boolean; at: number } | undefined;
  let pending: Promise<boolean> | undefined;

  function refresh(): Promise<boolean> {
    pending ??= probe()
      .catch(() => false)
      .then((ready) => {
        if (last?.ready !== ready) logger[ready ? 'info' : 'warn']({ ready }, ready ? 'Flatpeak reachable: ready' : 'Flatpeak unreachable or refusing our credentials: not ready');
        last = { ready, at: now() };
        return ready;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return async () => {
    if (isStopping()) return false;
    if (!last) return refresh();
    if (now() - last.at >= intervalMs) void refresh();
    return last.ready;
  };
}
