import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { problemsOf } from '../support/config.ts';
import { LIMITS } from '../../src/limits.ts';

const MB = 1024 * 1024;

it('bounds the document and APQ caches in bytes: 32 MB and 8 MB unless DOCUMENT_CACHE_MB and APQ_CACHE_MB say otherwise', () => {
  const defaults = loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com' });
  expect(defaults.documentCache).toEqual({ maxEntries: LIMITS.documentCacheEntries.value, maxBytes: 32 * MB });
  expect(defaults.persistedOperations.apqCacheBytes).toBe(8 * MB);
  const set = loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com', DOCUMENT_CACHE_MB: '4', APQ_CACHE_MB: '1' });
  expect(set.documentCache.maxBytes).toBe(4 * MB);
  expect(set.persistedOperations.apqCacheBytes).toBe(MB);
});

it('names a cache budget that is not a whole number of megabytes from 1 to 1024', () => {
  expect(problemsOf({ FLATPEAK_API_URL: 'https://api.flatpeak.com', DOCUMENT_CACHE_MB: '0', APQ_CACHE_MB: '1.5' })).toEqual([
    'DOCUMENT_CACHE_MB: must be a whole number from 1 to 1024 (got "0")',
    'APQ_CACHE_MB: must be a whole number from 1 to 1024 (got "1.5")',
  ]);
});
