import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { printSchema } from '../src/schema/index.ts';

it('schema.graphql is the SDL the code builds (run `npm run codegen` after changing the schema)', async () => {
  const committed = await readFile(new URL('../schema.graphql', import.meta.url), 'utf8');
  expect(committed.trim()).toBe(printSchema().trim());
});

it('describes every type, field and argument', () => {
  const sdl = printSchema();
  const lines = sdl.split('\n');
  // Every field or argument line is preceded by its description (a line ending in """).
  const undocumented = lines.filter((line, i) => /^\s+\w+(\(|:)/.test(line) && !/"""\s*$/.test(lines[i - 1] ?? ''));
  expect(undocumented).toEqual([]);
  const types = [...sdl.matchAll(/^(?:type|scalar) (\w+)/gm)].map((match) => match[1]);
  const describedTypes = [...sdl.matchAll(/"""\n(?:type|scalar) (\w+)/gm)].map((match) => match[1]);
  expect(types.filter((name) => name !== 'Query')).toEqual(describedTypes);
});
