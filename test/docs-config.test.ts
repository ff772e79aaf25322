import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/config.ts';
import { LIMITS } from '../src/limits.ts';
import { GENERATED_PARTS, renderLimitsTable, renderVariablesTable, withGeneratedPart } from '../scripts/config-table.ts';

describe.each(GENERATED_PARTS)('$file', (part) => {
  it('holds the table npm run docs:config renders from the code (run it after changing a variable or a limit)', () => {
    const committed = readFileSync(new URL(`../${part.file}`, import.meta.url), 'utf8');
    expect(committed).toBe(withGeneratedPart(committed, part));
  });
});

describe('the generated tables', () => {
  it('have one row per variable of the schema, each with a description', () => {
    const table = renderVariablesTable();
    for (const name of Object.keys(envSchema.shape)) {
      expect(table).toMatch(new RegExp(`^\\| \`${name}\` \\| [^|]+ \\| .{10,}`, 'm'));
    }
    expect(table.split('\n')).toHaveLength(Object.keys(envSchema.shape).length + 2);
  });

  it('show the defaults the schema applies', () => {
    const table = renderVariablesTable();
    expect(table).toContain('| `PORT` | `4000` |');
    expect(table).toContain('| `AUTH_ALGORITHMS` | `RS256,ES256,EdDSA` |');
    expect(table).toContain('| `AUTH_LOCATIONS_CLAIM` | *(unset)* |');
  });

  it('have one row per limit, with its variable, default and refusal', () => {
    const table = renderLimitsTable();
    expect(table.split('\n')).toHaveLength(Object.keys(LIMITS).length + 2);
    expect(table).toContain('| bytes of one request body | — | 128 KB | HTTP 413 `REQUEST_ENTITY_TOO_LARGE` |');
    expect(table).toContain('| `MAX_REQUESTS_IN_FLIGHT` | 1,024 | HTTP 503 `OVERLOADED`, `Retry-After: 1` |');
  });
});
