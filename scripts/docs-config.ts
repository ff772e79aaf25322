/**
 * `npm run docs:config`: rewrites the table of environment variables in
 * docs/configuration.md from the schema (src/config.ts) and the descriptions
 * (src/config-descriptions.ts). test/docs-config.test.ts fails when the committed file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withVariablesTable } from './config-table.ts';

const path = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const before = readFileSync(path, 'utf8');
const after = withVariablesTable(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'docs/configuration.md is up to date\n' : 'docs/configuration.md rewritten\n');
