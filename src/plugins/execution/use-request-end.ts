import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../../context.ts';

/**
 * Ends each request's per-request state once its result is complete: after the single
 * result, or after the last part of an incremental (@defer/@stream) one.
 */
export function useRequestEnd(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const context = args.contextValue;
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result)) {
            context.dispose();
            return undefined;
          }
          return { onEnd: () => context.dispose() };
        },
      };
    },
  };
}
