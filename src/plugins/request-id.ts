import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

/** Echoes the request id (the caller's, or the one the context made) for tracing. */
export function useRequestIdHeader(): Plugin<Context> {
  const ids = new WeakMap<Request, string>();
  return {
    onExecute({ args }) {
      ids.set(args.contextValue.request, args.contextValue.requestId);
    },
    onResponse({ request, response }) {
      const id = ids.get(request);
      if (id) response.headers.set('x-request-id', id);
    },
  };
}
