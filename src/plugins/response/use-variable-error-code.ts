import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../../context.ts';

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
          for (const error of result.errors as readonly GraphQLError[]) {
            (error.extensions as Record<string, unknown>).code ??= 'BAD_USER_INPUT';
          }
        },
      };
    },
  };
}
