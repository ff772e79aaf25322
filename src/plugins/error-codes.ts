import type { Plugin } from 'graphql-yoga';
import { FacadeError } from '../errors.ts';
import { describeError, type Logger } from '../logger.ts';
import type { Context } from '../context.ts';

/**
 * Gives every error a stable `extensions.code`. graphql-js reports a bad variable (wrong
 * type, missing, null for a non-null) as an execution result without data and without a
 * code; to a client that is bad input.
 */
export function useVariableErrorCode(): Plugin<Context> {
  return {
    onExecute() {
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) || !result.errors || result.data !== undefined) return;
          for (const error of result.errors) {
            (error.extensions as Record<string, unknown>).code ??= 'BAD_USER_INPUT';
          }
        },
      };
    },
  };
}

/**
 * One warning per item that failed because of Flatpeak, with its request id. Unexpected
 * errors are logged by Yoga itself when it masks them.
 */
export function useUpstreamErrorLog(logger: Logger): Plugin<Context> {
  return {
    onExecute({ args }) {
      const { requestId } = args.contextValue;
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) || !result.errors) return;
          for (const error of result.errors) {
            const original = error.originalError;
            if (original instanceof FacadeError && original.code !== 'BAD_USER_INPUT' && original.code !== 'NOT_FOUND') {
              logger.warn(
                {
                  requestId,
                  path: error.path?.join('.'),
                  code: original.code,
                  upstream: original.upstream,
                  cause: original.cause === undefined ? undefined : describeError(original.cause),
                },
                original.message,
              );
            }
          }
        },
      };
    },
  };
}
