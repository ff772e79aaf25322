/**
 * `npm run docs:config`: rewrites the generated tables of docs/ — every environment
 * variable in docs/configuration.md (src/config.ts, src/config-descriptions.ts) and every
 * limit in docs/architecture.md (src/limits.ts). test/docs-config.test.ts fails when a
 * committed table differs from what the code says.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_PARTS, withGeneratedPart } from './config-table.ts';

for (const part of GENERATED_PARTS) {
  const path = new URL(`../${part.file}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = withGeneratedPart(before, part);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${part.file}: ${after === before ? 'up to date' : 'rewritten'}\n`);
}
