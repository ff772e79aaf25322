import { GraphQLError, validate } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Validation errors reported per document, plus graphql-js's "Too many validation errors".
 * graphql-js stops at 100 by default; a real document with more than a few mistakes is
 * fixed from the first ones, and each error costs heap and response bytes.
 */
export const MAX_VALIDATION_ERRORS = 20;

/** Longest name quoted in full in an error message, and longest message. */
export const MAX_QUOTED_LENGTH = 64;
export const MAX_MESSAGE_LENGTH = 500;

/** Validation stops at MAX_VALIDATION_ERRORS errors (graphql-js's `maxErrors`). */
export function useValidationErrorLimit(maxErrors = MAX_VALIDATION_ERRORS): Plugin {
  return {
    onValidate({ setValidationFn }) {
      // Yoga validates with (schema, document) and the rules its plugins added; graphql-js
      // takes options fourth.
      setValidationFn((schema, documentAST, rules) => validate(schema, documentAST, rules, { maxErrors }));
    },
  };
}

/**
 * No error message in a response longer than MAX_MESSAGE_LENGTH, and no name quoted in one
 * longer than MAX_QUOTED_LENGTH. Messages quote what the caller sent (an unknown field's
 * name, a variable's value, the body that is not JSON, in full): left alone, a 128 KB
 * request comes back as a 128 KB error, or a hundred of them.
 */
export function useBoundedErrorMessages(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Symbol.asyncIterator in result) return; // incremental parts carry the resolvers' own short messages
      if (Array.isArray(result)) {
        const bounded = result.map(withBoundedErrors);
        if (bounded.some((each, i) => each !== result[i])) setResult(bounded);
      } else {
        const bounded = withBoundedErrors(result);
        if (bounded !== result) setResult(bounded);
      }
    },
  };
}

/** The result itself when every error message in it is short enough, or a copy with short ones. */
function withBoundedErrors<T extends { readonly errors?: readonly unknown[] }>(result: T): T {
  if (!result.errors) return result;
  const errors = result.errors.map(boundedError);
  return errors.some((error, i) => error !== result.errors![i]) ? { ...result, errors } : result;
}

/** The error itself when it is short enough, or a copy with its messages shortened. */
function boundedError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string') return error;
  const { message } = error as { message: string };
  const extensions = (error as { extensions?: Record<string, unknown> }).extensions;
  // Yoga puts JSON.parse's own message, which quotes the body, in `originalError`.
  const original = extensions?.originalError as { message?: unknown } | undefined;
  const originalMessage = typeof original?.message === 'string' ? original.message : undefined;
  const short = boundedMessage(message);
  const shortOriginal = originalMessage === undefined ? undefined : boundedMessage(originalMessage);
  if (short === message && shortOriginal === originalMessage) return error;
  const shortExtensions = shortOriginal === originalMessage ? extensions : { ...extensions, originalError: { ...original, message: shortOriginal } };
  if (error instanceof GraphQLError) {
    return new GraphQLError(short, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: shortExtensions,
    });
  }
  return { ...error, message: short, extensions: shortExtensions };
}

export function boundedMessage(message: string): string {
  const quotedShort = message.replace(
    new RegExp(`"([^"]{${MAX_QUOTED_LENGTH + 1},})"`, 'g'),
    (_, quoted: string) => `"${quoted.slice(0, MAX_QUOTED_LENGTH)}…"`,
  );
  return quotedShort.length > MAX_MESSAGE_LENGTH ? `${quotedShort.slice(0, MAX_MESSAGE_LENGTH)}…` : quotedShort;
}
