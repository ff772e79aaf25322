import type { DocumentNode, GraphQLSchema, Source, Token } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createByteBoundedCache, stringBytes } from '../../caches/byte-bounded-cache.ts';

export interface DocumentCacheSettings {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export interface DocumentCache {
  readonly plugin: Plugin;
  /** True when the document's text is cached: it costs no parse and no validation. */
  isKnown(source: string): boolean;
  /**
   * The plugin with its `onValidate` run only for documents this cache has not validated:
   * what such a hook does (add rules, filter them, swap the validation function) is for a
   * validation that a known document does not get. Its other hooks are left as they are.
   */
  validatingUnknown<C extends object>(plugin: Plugin<C>): Plugin<C>;
}

/** What envelop's onValidate is given, as Yoga calls graphql-js's `validate` (envelop types it loosely). */
type ValidationParams = { readonly schema: GraphQLSchema; readonly documentAST: DocumentNode };

/**
 * Heap a parsed document keeps alive per token: its AST nodes, their locations and the
 * lexer's linked tokens. Measured with graphql 16 at 260–500 bytes (fields cost most);
 * rounded up so that the budget is not exceeded.
 */
const BYTES_PER_TOKEN = 600;

/**
 * Parsed documents that passed validation, keyed by their text, so that the clients' few
 * operations are parsed and validated once. In place of Yoga's parser and validation
 * cache, which counts entries, not bytes (1,000 documents at the token limit are over a
 * gigabyte), and keeps documents that fail, with every error, for anyone to fill.
 * Documents that fail parsing or validation are not cached: each costs its parse and
 * validation again, which the security limits keep small.
 *
 * Assumes one schema and one set of validation rules per app, as here: a document is
 * known valid for the schema it was validated against.
 */
export function createDocumentCache({ maxEntries, maxBytes }: DocumentCacheSettings): DocumentCache {
  const cache = createByteBoundedCache<string, DocumentNode>({ maxEntries, maxBytes, bytesOf: documentBytes });
  const validFor = new WeakMap<DocumentNode, GraphQLSchema>();
  const isValid = (document: DocumentNode, schema: GraphQLSchema): boolean => validFor.get(document) === schema;
  // A document parsed by this request and not validated yet, with the text it came from.
  const sourceOf = new WeakMap<DocumentNode, string>();
  const plugin: Plugin = {
    onParse({ params, setParsedDocument }) {
      // envelop types the parse parameters loosely; Yoga passes graphql-js's (source, options).
      const given = params.source as string | Source;
      const source = typeof given === 'string' ? given : given.body;
      const cached = cache.get(source);
      if (cached) {
        setParsedDocument(cached);
        return;
      }
      return ({ result }) => {
        if (result && !(result instanceof Error)) sourceOf.set(result as DocumentNode, source);
      };
    },
    onValidate({ params, setResult }) {
      const { schema, documentAST } = params as ValidationParams;
      if (isValid(documentAST, schema)) {
        setResult([]);
        return;
      }
      return ({ valid }) => {
        const source = sourceOf.get(documentAST);
        if (!valid || source === undefined) return;
        sourceOf.delete(documentAST);
        validFor.set(documentAST, schema);
        cache.set(source, documentAST);
      };
    },
  };
  return {
    plugin,
    isKnown: (source) => cache.has(source),
    validatingUnknown(wrapped) {
      const { onValidate } = wrapped;
      if (!onValidate) return wrapped;
      return {
        ...wrapped,
        onValidate(payload) {
          const { schema, documentAST } = payload.params as ValidationParams;
          if (isValid(documentAST, schema)) return;
          return onValidate.call(wrapped, payload);
        },
      };
    },
  };
}

function documentBytes(document: DocumentNode, source: string): number {
  let tokens = 0;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next) tokens += 1;
  // Without locations there are no tokens to count: a token per character is the upper bound.
  return stringBytes(source) + BYTES_PER_TOKEN * (tokens || source.length);
}
