import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { FacadeError } from '../../errors.ts';
import { type CallbackEmitter, type CallbackTarget, readCallbackTarget } from '../../subscriptions/callbacks.ts';

interface Pending {
  readonly target: CallbackTarget;
  /** Ends the subscription: the router said so, or could not be reached. */
  readonly end: AbortController;
}

/**
 * Apollo Router's HTTP callback mode for subgraph subscriptions: a subscription whose
 * request carries `extensions.subscription` runs like any other (same context, caller,
 * access rule, limits and shared poller), but its events go to the router's callback URL
 * (`emitter`) instead of down the response. The router's request is answered
 * `{"data":null}` once the `check` has gone through, or with the error that refused the
 * subscription (a bad callback URL, a failed check, NOT_FOUND, a limit).
 */
export function useSubscriptionCallbacks({ emitter, allowed }: { emitter: CallbackEmitter; allowed: readonly URL[] }): Plugin {
  const pending = new WeakMap<Request, Pending>();
  return {
    onParams({ params, request, setResult }) {
      const extension = (params.extensions as Record<string, unknown> | undefined)?.subscription;
      if (extension === undefined) return;
      try {
        pending.set(request, { target: readCallbackTarget(extension, allowed), end: new AbortController() });
      } catch (error) {
        setResult({ errors: [error as FacadeError] });
      }
    },
    onContextBuilding({ context, extendContext }) {
      const callback = pending.get((context as { request: Request }).request);
      // The subscription's end is the callback's, not the router's request's (answered at once).
      if (callback) extendContext({ subscriptionSignal: callback.end.signal } as never);
    },
    async onResultProcess(event) {
      const { request, result } = event;
      const callback = pending.get(request);
      if (!callback || !isAsyncIterable(result)) return;
      pending.delete(request);
      const events = result as AsyncIterable<ExecutionResult>;
      try {
        await emitter.check(callback.target);
      } catch (error) {
        callback.end.abort();
        await events[Symbol.asyncIterator]().return?.();
        const { message, code } = error as FacadeError;
        // Answered here: Yoga chose no processor for a stream the Accept header cannot carry.
        event.setResultProcessor(
          (_result, fetchAPI) =>
            new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
              status: 400,
              headers: { 'content-type': 'application/json; charset=utf-8' },
            }),
          'application/json',
        );
        return;
      }
      emitter.run(callback.target, events, callback.end);
      event.setResultProcessor(
        (_result, fetchAPI) =>
          new fetchAPI.Response('{"data":null}', { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } }),
        'application/json',
      );
    },
  };
}
