import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Operation documents by the hex SHA-256 of their text: what the apps may send by hash. */
export type PersistedManifest = ReadonlyMap<string, string>;

/** The manifest `npm run codegen` writes for the operations under examples/operations. */
export const DEFAULT_MANIFEST_PATH = fileURLToPath(new URL('../../examples/__generated__/persisted-documents.json', import.meta.url));

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

// GraphQL Code Generator's client-preset format: { "<sha256 hex>": "<document>" }.
const manifestSchema = z.record(z.string(), z.string().min(1));

/**
 * Reads a persisted-documents manifest. Throws an Error whose message says what is wrong
 * (it is shown next to the variable name): unreadable, not JSON, not the expected shape,
 * or a hash that is not the SHA-256 of its document (a hand-edited or mixed-up file would
 * otherwise run a different operation than the app asked for).
 */
export function readManifest(path: string): PersistedManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the manifest (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('the manifest is not JSON');
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`the manifest must be an object of "<sha256 hex>": "<document>" (${parsed.error.issues[0]?.message})`);
  }
  for (const [hash, document] of Object.entries(parsed.data)) {
    if (!SHA256_HEX.test(hash)) throw new Error(`the manifest's key ${JSON.stringify(hash)} is not a hex SHA-256 hash`);
    if (sha256Hex(document) !== hash) throw new Error(`the manifest's hash ${hash} is not the SHA-256 of its document`);
  }
  return new Map(Object.entries(parsed.data));
}
