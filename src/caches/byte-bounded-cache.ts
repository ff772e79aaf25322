import { LRUCache } from 'lru-cache';

/**
 * What an entry costs beyond its key and value: lru-cache's slots, the Map entry, the
 * estimate's own slack. Counted so that a million one-byte entries cannot fit in a few MB.
 */
const ENTRY_OVERHEAD_BYTES = 256;

export interface ByteBoundedCacheOptions<K, V> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** An upper estimate of the heap the entry keeps alive, key included. */
  readonly bytesOf: (value: V, key: K) => number;
}

/**
 * An LRU bounded in bytes as well as entries: what every cache that callers can fill is
 * made with. An entry larger than the whole budget is not stored at all.
 */
export function createByteBoundedCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>>({
  maxEntries,
  maxBytes,
  bytesOf,
}: ByteBoundedCacheOptions<K, V>): LRUCache<K, V> {
  return new LRUCache<K, V>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (value, key) => Math.ceil(bytesOf(value, key)) + ENTRY_OVERHEAD_BYTES,
  });
}

/** V8 keeps a string of Latin-1 characters at one byte a character, any other at two. */
export function stringBytes(text: string): number {
  // eslint-disable-next-line no-control-regex -- the range is all of Latin-1, U+0000 included
  return /[^\u0000-\u00ff]/.test(text) ? 2 * text.length : text.length;
}
