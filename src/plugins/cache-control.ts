import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

/**
 * `Cache-Control` on GraphQL responses. With the device cache on, a response built only
 * from cached-or-fresh devices may be kept by the client (and only by it: `private`, the
 * answer depends on who asked) for as long as its least fresh device; anything else, and
 * every response when the cache is off, is `no-store`.
 */
export function useCacheControl(cacheOn: boolean): Plugin<Context> {
  const contexts = new WeakMap<Request, Context>();
  const failed = new WeakSet<Request>();
  return {
    onExecute({ args }) {
      contexts.set(args.contextValue.request, args.contextValue);
      return {
        onExecuteDone({ result }) {
          if ('errors' in result && result.errors?.length) failed.add(args.contextValue.request);
        },
      };
    },
    onResponse({ request, response }) {
      const context = contexts.get(request);
      if (!context) return;
      const maxAgeMs = context.freshness.maxAgeMs;
      const keep = cacheOn && !failed.has(request) && Number.isFinite(maxAgeMs) && maxAgeMs >= 1000;
      response.headers.set('cache-control', keep ? `private, max-age=${Math.floor(maxAgeMs / 1000)}` : 'no-store');
      // The answer depends on who asked: an app's HTTP cache must not show it to the next
      // user who signs in on the same phone (persisted-query GETs have stable URLs).
      if (keep) response.headers.append('vary', 'Authorization');
    },
  };
}
