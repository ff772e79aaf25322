import { Lexer, parse, Source, TokenKind, type ParseOptions } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { LIMITS } from '../../limits.ts';

// Reported like graphql-armor's limits: a validation failure (HTTP 400), not a crash.
const limitExceeded = (message: string) =>
  createGraphQLError(`Syntax Error: ${message}`, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { spec: true, status: 400 } } });

const OPENING = new Set<TokenKind>([TokenKind.BRACE_L, TokenKind.BRACKET_L]);
const CLOSING = new Set<TokenKind>([TokenKind.BRACE_R, TokenKind.BRACKET_R]);

/**
 * graphql-js parses recursively, one group of stack frames per nesting level: a few KB of
 * `[[[[…` or `{a:{a:…` (well under the token limit) overflow the stack, and the RangeError
 * would be an unexpected error (HTTP 500). So before parsing, the document's tokens are
 * read once with graphql-js's public Lexer and the braces and brackets nested in one
 * another counted (selection sets, object and list values, list types) and the tokens;
 * graphql-js's own `maxTokens` option guards its parse as well. Only new documents are parsed: the document cache
 * answers for the ones seen before.
 */
export function useParseLimits({ maxTokens = LIMITS.tokens.value, maxNesting = LIMITS.nesting.value } = {}): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source: string | Source, options?: ParseOptions) => {
        checkTokens(typeof source === 'string' ? new Source(source) : source, maxTokens, maxNesting);
        return parse(source, { ...options, maxTokens });
      });
    },
  };
}

/** Throws when the document has more than `maxTokens` tokens or nests brackets deeper than `maxNesting`. */
function checkTokens(source: Source, maxTokens: number, maxNesting: number): void {
  const lexer = new Lexer(source);
  let depth = 0;
  for (let count = 0; ; count += 1) {
    if (count > maxTokens) throw limitExceeded(`Token limit of ${maxTokens} exceeded.`);
    // A lexing error is left to parse, which reports it with its position.
    let kind: TokenKind;
    try {
      kind = lexer.advance().kind;
    } catch {
      return;
    }
    if (kind === TokenKind.EOF) return;
    if (OPENING.has(kind)) {
      depth += 1;
      if (depth > maxNesting) throw limitExceeded(`Nesting limit of ${maxNesting} exceeded.`);
    } else if (CLOSING.has(kind)) {
      depth -= 1;
    }
  }
}
