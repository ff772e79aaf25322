import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../../errors.ts';

const NOT_ACCEPTABLE: ErrorCode = 'NOT_ACCEPTABLE';

/** What each kind of result can be sent as (Yoga's result processors and useMultipartSubscriptions). */
const ANSWERS = {
  subscription: {
    types: ['text/event-stream', 'multipart/mixed'],
    message:
      'A subscription is answered as a stream: send Accept: text/event-stream (server-sent events) or Accept: multipart/mixed (Apollo’s multipart subscriptions, as Apollo Client sends it with subscriptionSpec=1.0).',
  },
  incremental: {
    types: ['multipart/mixed', 'text/event-stream'],
    message: 'An operation with @defer or @stream is answered in parts: send Accept: multipart/mixed or Accept: text/event-stream.',
  },
  single: {
    types: ['application/graphql-response+json', 'application/json'],
    message:
      'None of the media types in the Accept header can carry a GraphQL response: send Accept: application/graphql-response+json or Accept: application/json (UTF-8).',
  },
} as const;

/**
 * Yoga answers a result that no media type of the request's Accept header can carry with
 * a 406 and an empty body, which leaves the client guessing (a subscription sent with
 * `Accept: application/json` is the common case). This plugin turns that 406 into a
 * GraphQL error, code NOT_ACCEPTABLE, naming the media types to ask for; the fast lane
 * runs the same onResponse hooks, so both paths answer alike. The result that was never
 * sent is closed: an unsent subscription would otherwise keep its watch (and poller).
 */
export function useNotAcceptable(): Plugin {
  const subscriptions = new WeakSet<Request>();
  const results = new WeakMap<Request, AsyncIterable<unknown>>();
  return {
    onSubscribe({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (request) subscriptions.add(request);
    },
    onResultProcess({ request, result }) {
      // Only a stream needs its result kept: to tell its kind, and to close it unsent.
      if (isAsyncIterable(result)) results.set(request, result);
    },
    onResponse(event) {
      const { request, response, fetchAPI } = event;
      const result = results.get(request);
      // Deleted once read, not left for the collector: such entries cost every scavenge (docs/benchmarks.md, "What survives a scavenge").
      if (result) results.delete(request);
      // Yoga's "no result processor" answer (process-request.ts): nothing else here answers 406.
      if (response.status !== 406 || response.body !== null) return;
      const kind = result ? (subscriptions.has(request) ? 'subscription' : 'incremental') : 'single';
      if (result) Promise.resolve(result[Symbol.asyncIterator]().return?.()).catch(() => {});
      const { types, message } = ANSWERS[kind];
      event.setResponse(
        new fetchAPI.Response(
          JSON.stringify({ errors: [{ message, extensions: { code: NOT_ACCEPTABLE, acceptableMediaTypes: types } }] }),
          {
            status: 406,
            statusText: 'Not Acceptable',
            headers: { 'content-type': 'application/json; charset=utf-8', accept: types.join(', ') },
          },
        ),
      );
    },
  };
}
