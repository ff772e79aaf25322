import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { FacadeError } from '../../errors.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { Context } from '../../context.ts';

/**
 * One warning per request whose items failed because of Flatpeak: counts by code, with
 * one example. Not a line per item: during an outage that would be hundreds of lines per
 * request, written when the service is busiest. Unexpected errors are logged by Yoga
 * itself when it masks them.
 */
export function useUpstreamErrorLog(logger: Logger): Plugin<Context> {
  return {
    onExecute({ args }) {
      const { requestId } = args.contextValue;
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) || !result.errors) return;
          const failures: Record<string, number> = {};
          let example: { path?: string; error: FacadeError } | undefined;
          for (const error of result.errors as readonly GraphQLError[]) {
            const original = error.originalError;
            if (!(original instanceof FacadeError) || original.code === 'BAD_USER_INPUT' || original.code === 'NOT_FOUND') continue;
            failures[original.code] = (failures[original.code] ?? 0) + 1;
            example ??= { path: error.path?.join('.'), error: original };
          }
          if (!example) return;
          logger.warn(
            {
              requestId,
              failures,
              path: example.path,
              upstream: example.error.upstream,
              cause: example.error.cause === undefined ? undefined : describeError(example.error.cause),
            },
            example.error.message,
          );
        },
      };
    },
  };
}
