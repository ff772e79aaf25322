import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LIMITS } from '../../limits.ts';

/**
 * No error message in a response longer than LIMITS.messageLength.value, and no name quoted in one
 * longer than LIMITS.quotedLength.value. Messages quote what the caller sent (an unknown field's
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
  const shortExtensions =
    shortOriginal === originalMessage ? extensions : { ...extensions, originalError: { ...original, message: shortOriginal } };
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
    new RegExp(`"([^"]{${LIMITS.quotedLength.value + 1},})"`, 'g'),
    (_, quoted: string) => `"${quoted.slice(0, LIMITS.quotedLength.value)}…"`,
  );
  return quotedShort.length > LIMITS.messageLength.value ? `${quotedShort.slice(0, LIMITS.messageLength.value)}…` : quotedShort;
}
