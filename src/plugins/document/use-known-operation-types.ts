import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A mutation or subscription to a schema without one is refused by graphql-js only when
 * it executes, with an error that has no code. As a validation rule (graphql-js 17 has
 * it as `KnownOperationTypesRule`) it is an ordinary validation error: HTTP 400,
 * GRAPHQL_VALIDATION_FAILED.
 */
export const knownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This service has no ${node.operation} operations.`, { nodes: node }));
    }
  },
});

export function useKnownOperationTypes(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(knownOperationTypes);
    },
  };
}
