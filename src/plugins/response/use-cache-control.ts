import type { Plugin } from 'graphql-yoga';
import type { Context } from '../../context.ts';

/**
 * `Cache-Control` on GraphQL responses. With the device cache on, a response built only
 * from cached-or-fresh devices may be kept by the client (and only by it: `private`, the
 * answer depends on who asked) for as long as its least fresh device; anything else, and
 * every response when the cache is off, is `no-store`.
 */
export function useCacheControl(cacheOn: boolean): Plugin<Context> {
  // What the response needs of each execution, keyed by its request: the freshness the
  // devices left, not the whole context (a context per request in a WeakMap costs the
  // garbage collector ~15 % of a small request's CPU).
  const outcomes = new WeakMap<Request, { readonly freshness: Context['freshness']; failed: boolean }>();
  return {
    onExecute({ args }) {
      const outcome = { freshness: args.contextValue.freshness, failed: false };
      outcomes.set(args.contextValue.request, outcome);
      return {
        onExecuteDone({ result }) {
          if ('errors' in result && result.errors?.length) outcome.failed = true;
        },
      };
    },
    onResponse({ request, response }) {
      const outcome = outcomes.get(request);
      if (!outcome) return;
      // Deleted once read, not left for the collector: such entries cost every scavenge (docs/benchmarks.md, "What survives a scavenge").
      outcomes.delete(request);
      const { maxAgeMs } = outcome.freshness;
      const keep = cacheOn && !outcome.failed && Number.isFinite(maxAgeMs) && maxAgeMs >= 1000;
      response.headers.set('cache-control', keep ? `private, max-age=${Math.floor(maxAgeMs / 1000)}` : 'no-store');
      // The answer depends on who asked: an app's HTTP cache must not show it to the next
      // user who signs in on the same phone (persisted-query GETs have stable URLs).
      if (keep) response.headers.append('vary', 'Authorization');
    },
  };
}
