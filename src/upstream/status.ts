import { FacadeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CircuitName } from './resilience.ts';

/** One look at Flatpeak: a login or a probe call. */
export interface Observation {
  readonly ok: boolean;
  /** When it finished (ISO 8601). */
  readonly at: string;
  /** Flatpeak's HTTP status, when it answered. */
  readonly status?: number;
  /** Why it failed: an error code (`UPSTREAM_UNAVAILABLE`, `ECONNREFUSED`…), never a message. */
  readonly error?: string;
}

/** What this replica last saw of Flatpeak: for dashboards (`/status`, `/metrics`), not for readiness. */
export interface UpstreamStatus {
  readonly credentials: 'service' | 'pass-through';
  readonly circuit: CircuitName;
  /** The last login with the service credentials; null in pass-through or before the first. */
  readonly login: Observation | null;
  /** The last probe call (`GET /devices?limit=1`); null before the first. */
  readonly probe: Observation | null;
}

export interface UpstreamStatusOptions {
  /** One probe call: Flatpeak's status code, or a thrown error when it could not answer. */
  readonly probe: () => Promise<{ ok: boolean; status: number }>;
  readonly circuit: () => CircuitName;
  readonly credentials: UpstreamStatus['credentials'];
  /** Flatpeak is probed at most this often, however often the status is asked for. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface UpstreamMonitor {
  /** The current status; probes Flatpeak first when it never has, else in the background when stale. */
  status(): Promise<UpstreamStatus>;
  /** Records the outcome of a login with the service credentials. */
  loggedIn(outcome: { ok: true } | { ok: false; error: unknown }): void;
}

/**
 * Flatpeak's state as this replica sees it. It used to decide readiness, which took every
 * replica out of the load balancer at once when Flatpeak failed, so that callers got
 * connection errors instead of fast, coded partial errors. It is now only reported.
 */
export function createUpstreamMonitor({
  probe,
  circuit,
  credentials,
  intervalMs,
  logger,
  now = Date.now,
}: UpstreamStatusOptions): UpstreamMonitor {
  let login: Observation | null = null;
  let last: { observation: Observation; at: number } | undefined;
  let pending: Promise<void> | undefined;
  const at = () => new Date(now()).toISOString();

  function refresh(): Promise<void> {
    pending ??= probe()
      .then(
        ({ ok, status }): Observation => ({ ok, at: at(), status }),
        (error: unknown): Observation => ({ ok: false, at: at(), error: errorCode(error) }),
      )
      .then((observation) => {
        if (last?.observation.ok !== observation.ok) {
          const { status, error } = observation;
          if (observation.ok) logger.info({ status }, 'Flatpeak probe: reachable');
          else logger.warn({ status, error }, 'Flatpeak probe: unreachable or refusing our credentials');
        }
        last = { observation, at: now() };
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return {
    async status() {
      if (!last) await refresh();
      else if (now() - last.at >= intervalMs) void refresh();
      return { credentials, circuit: circuit(), login, probe: last?.observation ?? null };
    },
    loggedIn(outcome) {
      if (outcome.ok) {
        login = { ok: true, at: at() };
        return;
      }
      const status = outcome.error instanceof FacadeError ? outcome.error.upstream?.status : undefined;
      login = { ok: false, at: at(), ...(status === undefined ? {} : { status }), error: errorCode(outcome.error) };
    },
  };
}

function errorCode(error: unknown): string {
  if (error instanceof FacadeError) return error.code;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}
