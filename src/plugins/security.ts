import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useParseLimits } from './parse-limits.ts';

// graphql-armor throws on rejection, which Yoga turns into a 200 without a code. Reporting
// the error instead makes it an ordinary validation error: HTTP 400, GRAPHQL_VALIDATION_FAILED.
const asValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export const MAX_TOKENS = 5_000;
/** Well above the deepest document a client sends (introspection: 10), far below a stack overflow (~2,000). */
export const MAX_NESTING = 32;

/**
 * Limits on what one document may ask for, from graphql-armor (maintained, used with Yoga
 * and Apollo) rather than hand-written rules. Sized for the schema: the deepest useful
 * query is about 4 levels; 30 aliases of `devices` already reach 3,000 device loads.
 *
 * Tokens and nesting are counted while parsing (./parse-limits.ts), where a document too
 * deep would otherwise overflow the stack. Armor's own token limit is off: it runs at
 * parse time too, where its reportError has no validation context and rejects nothing.
 */
export function useSecurityLimits(): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(useParseLimits({ maxTokens: MAX_TOKENS, maxNesting: MAX_NESTING }));
      addPlugin(
        EnvelopArmorPlugin({
          maxDepth: { n: 10, ...asValidationError },
          // `__typename` too (armor leaves it out by default): each alias is still work
          // and response size, and 5,000 of them fit under the token limit.
          maxAliases: { n: 30, allowList: [], ...asValidationError },
          maxDirectives: { n: 50, ...asValidationError },
          maxTokens: { enabled: false },
          costLimit: { maxCost: 5_000, ...asValidationError },
          // Suggestions help people in GraphiQL and reveal nothing introspection does not.
          blockFieldSuggestion: { enabled: false },
        }),
      );
    },
  };
}
