import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/config.ts';
import { renderVariablesTable, withVariablesTable } from '../scripts/config-table.ts';

const path = new URL('../docs/configuration.md', import.meta.url);

describe('docs/configuration.md', () => {
  it('holds the table npm run docs:config renders from src/config.ts (run it after changing a variable)', () => {
    const committed = readFileSync(path, 'utf8');
    expect(committed).toBe(withVariablesTable(committed));
  });

  it('has one row per variable of the schema, each with a description', () => {
    const table = renderVariablesTable();
    for (const name of Object.keys(envSchema.shape)) {
      expect(table).toMatch(new RegExp(`^\\| \`${name}\` \\| [^|]+ \\| .{10,}`, 'm'));
    }
    expect(table.split('\n')).toHaveLength(Object.keys(envSchema.shape).length + 2);
  });

  it('shows the defaults the schema applies', () => {
    const table = renderVariablesTable();
    expect(table).toContain('| `PORT` | `4000` |');
    expect(table).toContain('| `AUTH_ALGORITHMS` | `RS256,ES256,EdDSA` |');
    expect(table).toContain('| `AUTH_LOCATIONS_CLAIM` | *(unset)* |');
  });
});
