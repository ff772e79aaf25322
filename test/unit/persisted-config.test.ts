import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { problemsOf } from '../support/config.ts';
import { DEFAULT_MANIFEST_PATH, sha256Hex } from '../../src/persisted/manifest.ts';
import { DeviceDetailDocument } from '../../examples/__generated__/graphql.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flatpeak-graph-manifest-'));
});

async function manifestFile(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('PERSISTED_OPERATIONS', () => {
  it('defaults to allow, with the committed manifest of the example operations', () => {
    const { persistedOperations } = loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com' });
    expect(persistedOperations.mode).toBe('allow');
    expect(persistedOperations.manifestPath).toBe(DEFAULT_MANIFEST_PATH);
    const hash = (DeviceDetailDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
    expect(persistedOperations.manifest.get(hash)).toMatch(/^fragment DevicePropertiesCard .* query DeviceDetail\(/);
  });

  it('reads off and require; off does not read the manifest at all', () => {
    expect(loadConfig({ FLATPEAK_API_URL: 'https://api.flatpeak.com', PERSISTED_OPERATIONS: 'require' }).persistedOperations.mode).toBe(
      'require',
    );
    const off = loadConfig({
      FLATPEAK_API_URL: 'https://api.flatpeak.com',
      PERSISTED_OPERATIONS: 'off',
      PERSISTED_OPERATIONS_MANIFEST: '/nonexistent.json',
    });
    expect(off.persistedOperations.mode).toBe('off');
    expect(off.persistedOperations.manifest.size).toBe(0);
  });

  it('names a bad mode', () => {
    expect(problemsOf({ FLATPEAK_API_URL: 'https://api.flatpeak.com', PERSISTED_OPERATIONS: 'sometimes' })).toEqual([
      'PERSISTED_OPERATIONS: must be one of off, allow, require (got "sometimes")',
    ]);
  });

  it('reads another manifest', async () => {
    const document = 'query Hello { __typename }';
    const path = await manifestFile('ok.json', JSON.stringify({ [sha256Hex(document)]: document }));
    const { persistedOperations } = loadConfig({
      FLATPEAK_API_URL: 'https://api.flatpeak.com',
      PERSISTED_OPERATIONS: 'require',
      PERSISTED_OPERATIONS_MANIFEST: path,
    });
    expect([...persistedOperations.manifest]).toEqual([[sha256Hex(document), document]]);
  });

  it.each([
    ['missing.json', undefined, /cannot read the manifest \(ENOENT\)/],
    ['not-json.json', '{ nope', /not JSON/],
    ['array.json', '["query { a }"]', /must be an object of "<sha256 hex>": "<document>"/],
    ['bad-key.json', JSON.stringify({ 'sha256:abc': 'query { a }' }), /key "sha256:abc" is not a hex SHA-256 hash/],
    ['wrong-hash.json', JSON.stringify({ [sha256Hex('query { a }')]: 'query { b }' }), /is not the SHA-256 of its document/],
  ])('stops with a message naming PERSISTED_OPERATIONS_MANIFEST: %s', async (name, content, message) => {
    const path = content === undefined ? join(dir, name) : await manifestFile(name, content);
    const problems = problemsOf({ FLATPEAK_API_URL: 'https://api.flatpeak.com', PERSISTED_OPERATIONS_MANIFEST: path });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PERSISTED_OPERATIONS_MANIFEST: /);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).toContain(JSON.stringify(path));
  });
});
