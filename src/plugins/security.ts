import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';

// graphql-armor throws on rejection, which Yoga turns into a 200 without a code. Reporting
// the error instead makes it an ordinary validation error: HTTP 400, GRAPHQL_VALIDATION_FAILED.
const asValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/**
 * Limits on what one document may ask for, from graphql-armor (maintained, used with Yoga
 * and Apollo) rather than hand-written rules. Sized for the schema: the deepest useful
 * query is about 4 levels; 30 aliases of `devices` already reach 3,000 device loads.
 */
export function useSecurityLimits() {
  return EnvelopArmorPlugin({
    maxDepth: { n: 10, ...asValidationError },
    maxAliases: { n: 30, ...asValidationError },
    maxDirectives: { n: 50, ...asValidationError },
    maxTokens: { n: 5_000, ...asValidationError },
    costLimit: { maxCost: 5_000, ...asValidationError },
    // Suggestions help people in GraphiQL and reveal nothing introspection does not.
    blockFieldSuggestion: { enabled: false },
  });
}
