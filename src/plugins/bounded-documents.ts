import type { Plugin } from 'graphql-yoga';
import { useBoundedErrorMessages, useValidationErrorLimit } from './bounded-errors.ts';
import { useCostlyRequestLane } from './costly-request-lane.ts';
import { createDocumentCache, type DocumentCacheSettings } from './document-cache.ts';

/**
 * What keeps callers from growing the heap without bound with documents, or holding up the
 * others with costly ones: parsed documents in a byte budget (in place of Yoga's parser and
 * validation cache, to be turned off with `parserAndValidationCache: false`), new documents
 * and large bodies one at a time, at most MAX_VALIDATION_ERRORS errors per document, short
 * error messages. After the persisted-operation plugins, which turn hashes into documents.
 */
export function useBoundedDocuments(settings: DocumentCacheSettings): Plugin[] {
  const documents = createDocumentCache(settings);
  return [documents.plugin, useCostlyRequestLane(documents.isKnown), useValidationErrorLimit(), useBoundedErrorMessages()];
}
