import { readFile } from 'node:fs/promises';
import { executeCodegen } from '@graphql-codegen/cli';
import { expect, it } from 'vitest';
import config from '../codegen.ts';

// The typed documents and the persisted-documents manifest are committed (apps build from
// them, the service loads the manifest): they must be what `npm run codegen` writes today.
it('the committed generated files are what `npm run codegen` writes (run it after changing operations or the schema)', async () => {
  const { result, error } = await executeCodegen({ ...config, silent: true });
  expect(error).toBeNull();
  const files = result.map((output) => output.filename).sort();
  expect(files).toEqual(
    expect.arrayContaining([
      'examples/__generated__/persisted-documents.json',
      'examples/__generated__/graphql.ts',
      'schema.graphql',
      'test/__generated__/graphql.ts',
    ]),
  );
  for (const output of result) {
    const committed = await readFile(new URL(`../${output.filename}`, import.meta.url), 'utf8');
    expect(committed, output.filename).toBe(output.content);
  }
}, 60_000);
