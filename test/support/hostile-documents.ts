import { createHash } from 'node:crypto';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';

/**
 * Request bodies a hostile client would send to fill memory, the i-th of each kind distinct
 * from the others. Used by the memory-flood benchmark and its bounded version in the suite.
 */
export type HostileKind = 'unknown-fields' | 'token-limit' | 'alias-depth' | 'apq' | 'malformed-json' | 'parse-errors';

export interface HostileLimits {
  readonly maxTokens: number;
  readonly bodyBytes: number;
  readonly apqDocumentLength: number;
}

const json = (query: string, extensions?: unknown) => JSON.stringify({ query, extensions });

/** Distinct filler of exactly `length` characters; `€` makes V8 keep the string at two bytes a character. */
function filler(i: number, length: number, wide = false): string {
  const unit = `${i.toString(36)}${wide ? '€' : '-'}`;
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

export function hostileBody(kind: HostileKind, i: number, limits: HostileLimits): string {
  switch (kind) {
    // Issue 11's reproduction: ~2 KB, 150 fields Device does not have, as many validation errors.
    case 'unknown-fields': {
      const fields = Array.from({ length: 150 }, (_, k) => `missing${i}_${k}`).join(' ');
      return json(`query U${i} { device(id: "${SEED_DEVICE_ID}") { ${fields} } }`);
    }
    // Valid (a list argument costs nothing) at exactly the token limit; fails at execution
    // (over 100 ids) without an upstream call.
    case 'token-limit': {
      const ids = Array.from({ length: limits.maxTokens - 15 }, (_, k) => `"d${i}_${k}"`).join(' ');
      return json(`query T${i} { devices(ids: [${ids}]) { id } }`);
    }
    // 30 aliases (graphql-armor does not count `__typename` ones) and depth 10: valid, executed
    // without upstream calls.
    case 'alias-depth': {
      const aliases = Array.from({ length: 29 }, (_, k) => `a${i}_${k}: devices(ids: []) { id }`).join(' ');
      return json(
        `query A${i} { ${aliases} t${i}: __type(name: "Device") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }`,
      );
    }
    // An APQ registration (document with its true SHA-256) at the registration limit, two bytes a character.
    case 'apq': {
      const head = `query P${i} { __typename }\n# `;
      const document = head + filler(i, limits.apqDocumentLength - head.length, true);
      const sha256Hash = createHash('sha256').update(document).digest('hex');
      return json(document, { persistedQuery: { version: 1, sha256Hash } });
    }
    // JSON cut short, at the body limit.
    case 'malformed-json': {
      const head = `{"query":"query M${i} { __typename } # `;
      return head + filler(i, limits.bodyBytes - 64 - head.length);
    }
    // Well-formed JSON whose document fails to parse only at its very end, at the body limit.
    case 'parse-errors': {
      const head = `query E${i} { __typename } # `;
      return json(`${head}${filler(i, limits.bodyBytes - 64 - head.length)}\n }`);
    }
  }
}

export const HOSTILE_KINDS: readonly HostileKind[] = [
  'unknown-fields',
  'token-limit',
  'alias-depth',
  'apq',
  'malformed-json',
  'parse-errors',
];
