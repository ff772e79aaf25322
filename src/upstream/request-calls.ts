import type { Context as TraceContext } from '@opentelemetry/api';
import { bulkhead } from 'cockatiel';
import type { GiveUpSignal } from '../request/lifetime.ts';
import type { Authorize } from './auth.ts';
import type { CallOptions } from './flatpeak.ts';

/** A call to Flatpeak on one request's behalf; `shared` is a shared call's own signal. */
export type RequestCalls = <T>(call: (options: CallOptions) => Promise<T>, shared?: GiveUpSignal) => Promise<T>;

export interface RequestCallOptions {
  readonly authorize: Authorize;
  readonly lifetime: GiveUpSignal;
  readonly requestId: string;
  readonly traceContext: TraceContext | undefined;
  readonly deadlineAt: number;
  /** Upstream calls this request may have in flight or in the shared queue at once. */
  readonly maxCalls: number;
}

/**
 * How one request calls Flatpeak: with its credential, its deadline and its lifetime as the
 * signal (a shared call has its own), and through slots of its own. A request waits for its
 * own slots before it joins the shared upstream queue, so one document of many devices
 * cannot push every other caller's calls behind its own.
 */
export function createRequestCalls({
  authorize,
  lifetime,
  requestId,
  traceContext,
  deadlineAt,
  maxCalls,
}: RequestCallOptions): RequestCalls {
  // Made on the first call: most small requests only join calls already in flight.
  let slots: ReturnType<typeof bulkhead> | undefined;
  return (call, shared) => {
    const callSignal = shared ?? lifetime;
    const owner = (slots ??= bulkhead(maxCalls, Number.POSITIVE_INFINITY));
    return owner.execute(() =>
      authorize((token) => call({ token, requestId, traceContext, signal: callSignal, deadlineAt, owner }), callSignal),
    );
  };
}
