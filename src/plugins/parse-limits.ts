import type { ConstValueNode, ParseOptions, SelectionSetNode, Source, TypeNode, ValueNode } from 'graphql';
import { Parser } from 'graphql/language/parser.js';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export interface ParseLimits {
  /** Tokens in one document. */
  readonly maxTokens: number;
  /** Selection sets, list and object values and list types nested in one another. */
  readonly maxNesting: number;
}

// Reported like graphql-armor's limits: a validation failure (HTTP 400), not a crash.
const limitExceeded = (message: string) =>
  createGraphQLError(`Syntax Error: ${message}`, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { spec: true, status: 400 } } });

/**
 * graphql-js parses recursively, one stack frame group per nesting level: a few KB of
 * `[[[[…` or `{a:{a:…` (well under the token limit) overflow the stack, and the
 * RangeError is an unexpected error (HTTP 500). The limits are checked while parsing,
 * so that no document goes deeper than `maxNesting` or longer than `maxTokens`.
 */
class LimitedParser extends Parser {
  private depth = 0;

  constructor(
    source: string | Source,
    options: ParseOptions | undefined,
    private readonly limits: ParseLimits,
  ) {
    super(source, options);
  }

  override advanceLexer(): void {
    super.advanceLexer();
    if (this.tokenCount > this.limits.maxTokens) throw limitExceeded(`Token limit of ${this.limits.maxTokens} exceeded.`);
  }

  override parseSelectionSet(): SelectionSetNode {
    return this.nested(() => super.parseSelectionSet());
  }

  override parseValueLiteral(isConst: true): ConstValueNode;
  override parseValueLiteral(isConst: boolean): ValueNode;
  override parseValueLiteral(isConst: boolean): ValueNode {
    return this.nested(() => super.parseValueLiteral(isConst));
  }

  override parseTypeReference(): TypeNode {
    return this.nested(() => super.parseTypeReference());
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > this.limits.maxNesting) throw limitExceeded(`Nesting limit of ${this.limits.maxNesting} exceeded.`);
    try {
      return parse();
    } finally {
      this.depth -= 1;
    }
  }
}

/** Parses every document with the limits above (Yoga still caches parsed documents). */
export function useParseLimits(limits: ParseLimits): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => new LimitedParser(source, options, limits).parseDocument());
    },
  };
}
