import type { Context as TraceContext } from '@opentelemetry/api';
import type { GiveUpSignal } from '../request/lifetime.ts';
import type { Authorize } from './auth.ts';
import type { CallOptions } from './flatpeak.ts';
import { promiseOf } from '../promise-of.ts';

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
  let slots: Slots | undefined;
  return (call, shared) => {
    const callSignal = shared ?? lifetime;
    const owner = (slots ??= createSlots(maxCalls));
    return owner.run(() =>
      authorize((token) => call({ token, requestId, traceContext, signal: callSignal, deadlineAt, owner }), callSignal),
    );
  };
}

type Slots = ReturnType<typeof createSlots>;

/**
 * At most `max` calls running at once (in flight, or waiting in the shared queue); the
 * rest wait here in turn. As cockatiel's bulkhead with an unbounded queue, whose `execute`,
 * an async function, cost two promises per device call; here a call that finds a slot
 * costs one, which gives the slot back.
 */
function createSlots(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next)
      next(); // the slot passes to the next call as it stands
    else active -= 1;
  };
  function start<T>(task: () => Promise<T>): Promise<T> {
    const running = promiseOf(task);
    running.then(release, release);
    return running;
  }
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      if (active < max) {
        active += 1;
        return start(task);
      }
      return new Promise<void>((resolve) => waiting.push(resolve)).then(() => start(task));
    },
  };
}
