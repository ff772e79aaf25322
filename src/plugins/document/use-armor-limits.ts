import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LIMITS } from '../../limits.ts';

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
 *
 * Tokens and nesting are bounded while parsing (./use-parse-limits.ts), where a document
 * too deep would otherwise overflow the stack. Armor's own token limit is off: it runs at
 * parse time too, where its reportError has no validation context and rejects nothing.
 */
export function useArmorLimits(): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        EnvelopArmorPlugin({
          maxDepth: { n: LIMITS.depth.value, ...asValidationError },
          // `__typename` too (armor leaves it out by default): each alias is still work
          // and response size, and 5,000 of them fit under the token limit.
          maxAliases: { n: LIMITS.aliases.value, allowList: [], ...asValidationError },
          maxDirectives: { n: LIMITS.directives.value, ...asValidationError },
          maxTokens: { enabled: false },
          costLimit: { maxCost: LIMITS.cost.value, ...asValidationError },
          // Suggestions help people in GraphiQL and reveal nothing introspection does not.
          blockFieldSuggestion: { enabled: false },
        }),
      );
    },
  };
}
