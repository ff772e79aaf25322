import { defaultExtractPersistedOperationId, usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { createByteBoundedCache, stringBytes } from '../../caches/byte-bounded-cache.ts';
import type { SharedRegistrations } from '../../persisted/shared-registrations.ts';
import type { PersistedOperationsSettings } from '../../config.ts';
import { type PersistedManifest, SHA256_HEX, sha256Hex } from '../../persisted/manifest.ts';
import { LIMITS } from '../../limits.ts';

// The exact message and code Apollo's clients (web, iOS, Kotlin) look for before they
// resend the document with its hash; anything else would end the exchange with an error.
const notFound = { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } };

const notInList = {
  message:
    'This service runs only the operations in its persisted-operations manifest, and this hash is not one of them. Regenerate the app’s operations (npm run codegen) and deploy the manifest with the service.',
  extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST', http: { status: 400 } },
};

const persistedOnly = {
  message:
    'This service runs only persisted operations: send extensions.persistedQuery { version: 1, sha256Hash } of an operation in its manifest instead of a document.',
  extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
};

// What Yoga itself answers when neither a document nor a hash was sent.
const noQuery = { message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST', http: { status: 400 } } };

/**
 * Which documents run, by PERSISTED_OPERATIONS:
 * - off: documents only; a hash alone gets PERSISTED_QUERY_NOT_SUPPORTED, on which Apollo's
 *   clients stop sending hashes and send documents.
 * - allow: documents, manifest hashes and Apollo's automatic persisted queries.
 * - require: manifest hashes only.
 * Lookups and their errors are Yoga's persisted-operations plugin; only APQ registration is ours.
 */
export function usePersistedOperationsMode(
  { mode, manifest, apqCacheBytes }: PersistedOperationsSettings,
  shared?: SharedRegistrations,
): Plugin[] {
  if (mode === 'off') return [useNoPersistedQueries()];
  if (mode === 'require') {
    return [
      usePersistedOperations({
        getPersistedOperation: (hash) => manifest.get(hash) ?? null,
        allowArbitraryOperations: false,
        customErrors: { notFound: notInList, persistedQueryOnly: persistedOnly, keyNotFound: persistedOnly },
      }),
    ];
  }
  const registered = createByteBoundedCache<string, string>({
    maxEntries: LIMITS.apqEntries.value,
    maxBytes: apqCacheBytes,
    bytesOf: (document, hash) => stringBytes(document) + hash.length,
  });
  // With REDIS_URL a registration goes to every replica too; a hash found there is kept here.
  const register = {
    set(hash: string, document: string) {
      registered.set(hash, document);
      shared?.set(hash, document);
    },
  };
  const lookUp = (hash: string): string | null | Promise<string | null> => {
    const known = manifest.get(hash) ?? registered.get(hash);
    if (known !== undefined || !shared) return known ?? null;
    return shared.get(hash).then((document) => {
      if (document !== null) registered.set(hash, document);
      return document;
    });
  };
  return [
    useAutomaticPersistedQueryRegistration(manifest, register),
    usePersistedOperations({
      getPersistedOperation: lookUp,
      allowArbitraryOperations: true,
      customErrors: { notFound, keyNotFound: noQuery },
    }),
  ];
}

function useNoPersistedQueries(): Plugin {
  return {
    onParams({ params, request, context }) {
      if (!params.query && defaultExtractPersistedOperationId(params, request, context)) {
        throw createGraphQLError('PersistedQueryNotSupported', { extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } });
      }
    },
  };
}

/**
 * APQ's second step: a document sent with its hash is remembered under that hash, so the
 * next request can send the hash alone. Only a hash that really is the document's SHA-256
 * is kept (otherwise one client could make a hash run another document for everyone), and
 * only once the document has passed validation and the security limits, so the store holds
 * nothing that could not run. A mismatched hash is not an error: the document still runs,
 * as a full document would (an app built against a newer manifest sends its own hashes).
 */
function useAutomaticPersistedQueryRegistration(
  manifest: PersistedManifest,
  registered: { set(hash: string, document: string): unknown },
): Plugin {
  const toRegister = new WeakMap<Request, { hash: string; document: string }>();
  return {
    onParams({ params, request, context }) {
      const hash = defaultExtractPersistedOperationId(params, request, context);
      const document = params.query;
      if (!hash || !document || document.length > LIMITS.apqDocumentLength.value || !SHA256_HEX.test(hash) || manifest.has(hash)) return;
      if (sha256Hex(document) === hash) toRegister.set(request, { hash, document });
    },
    onExecute({ args }) {
      const pending = toRegister.get(args.contextValue.request);
      if (pending) registered.set(pending.hash, pending.document);
    },
  };
}
