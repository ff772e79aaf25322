import { validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LIMITS } from '../../limits.ts';

/** Validation stops at LIMITS.validationErrors.value errors (graphql-js's `maxErrors`). */
export function useValidationErrorLimit(maxErrors = LIMITS.validationErrors.value): Plugin {
  return {
    onValidate({ setValidationFn }) {
      // Yoga validates with (schema, document) and the rules its plugins added; graphql-js
      // takes options fourth.
      setValidationFn((schema: GraphQLSchema, documentAST: DocumentNode, rules?: readonly ValidationRule[]) =>
        validate(schema, documentAST, rules, { maxErrors }),
      );
    },
  };
}
