/**
 * The runnable examples of the documentation (README.md, docs/*.md), as written:
 *
 * - a ```graphql block holds one operation; a ```sh (or bash, shell) block holds curl commands;
 * - a ```json variables block after a GraphQL example gives its variables;
 * - a ```json result block after an example is its documented answer (fields shown are
 *   checked, fields left out are not; the string "…" stands for any value), or a
 *   ```text result block: lines that must appear in the output, in order ("…" for any text);
 * - `<!-- not-run: why -->` just before a block says it is not run, and why;
 * - `<!-- example-env: NAME=value … -->` runs the examples after it, up to the next such
 *   comment, against a service started with those variables too (e.g. `CALLER_AUTH=jwt`);
 *   `<!-- example-env: -->` returns to the plain quick start.
 *
 * Any other GraphQL or shell block, or an example without a result, is a problem: the
 * documentation would show something no test has run.
 */
import { Kind, parse } from 'graphql';
import { lexer, type Tokens, walkTokens } from 'marked';

export interface DocExample {
  /** `README.md #3: query DeviceList {`, for test names and failures. */
  readonly name: string;
  readonly kind: 'graphql' | 'shell';
  readonly source: string;
  readonly operationType?: 'query' | 'mutation' | 'subscription';
  /** Variables of the service it runs against, besides the quick start's (none by default). */
  readonly env: Readonly<Record<string, string>>;
  variables?: Record<string, unknown>;
  result?: { readonly format: 'json' | 'text'; readonly text: string };
}

export interface NotRun {
  readonly name: string;
  readonly reason: string;
}

const GRAPHQL = new Set(['graphql', 'gql']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const NOT_RUN = /^<!--\s*not-run:\s*([\s\S]+?)\s*-->\s*$/;
const EXAMPLE_ENV = /^<!--\s*example-env:([\s\S]*?)-->\s*$/;

/** The examples of one Markdown file; throws one error listing every problem. */
export function extractExamples(file: string, markdown: string): { examples: DocExample[]; notRun: NotRun[] } {
  const examples: DocExample[] = [];
  const notRun: NotRun[] = [];
  const problems: string[] = [];
  let reason: string | undefined; // of a not-run comment waiting for its block
  let last: DocExample | undefined;
  let blocks = 0;
  let env: Record<string, string> = {};

  void walkTokens(lexer(markdown), (token) => {
    if (token.type === 'html') {
      const raw = token.raw.trim();
      const marker = NOT_RUN.exec(raw);
      if (marker) reason = marker[1];
      const variables = EXAMPLE_ENV.exec(raw);
      if (variables) env = environmentOf(variables[1]!, file, problems);
      return;
    }
    if (token.type !== 'code') return;
    const code = token as Tokens.Code;
    const [language = '', role] = (code.lang ?? '').trim().split(/\s+/);
    const name = `${file} #${++blocks}: ${
      code.text
        .split('\n')
        .find((line) => line.trim() && !line.trim().startsWith('#'))
        ?.trim() ?? ''
    }`;

    if (GRAPHQL.has(language) || SHELL.has(language)) {
      last = undefined;
      if (reason !== undefined) {
        notRun.push({ name, reason });
        reason = undefined;
        return;
      }
      if (SHELL.has(language)) {
        if (!/\bcurl\b/.test(code.text)) {
          problems.push(`${name}: a shell block without curl is not run; mark it <!-- not-run: why --> or make it a curl example`);
          return;
        }
        last = { name, kind: 'shell', source: code.text, env };
      } else {
        const operationType = operationTypeOf(code.text, name, problems);
        if (!operationType) return;
        last = { name, kind: 'graphql', source: code.text, operationType, env };
      }
      examples.push(last);
      return;
    }
    if (reason !== undefined) {
      problems.push(`${name}: <!-- not-run --> marks a block that is not a GraphQL or shell example`);
      reason = undefined;
    }
    if (role !== 'variables' && role !== 'result') return;
    if (!last || last.result) {
      problems.push(`${name}: a \`${language} ${role}\` block with no example just before it`);
      return;
    }
    if (role === 'variables') {
      if (last.kind !== 'graphql' || language !== 'json') problems.push(`${name}: variables are a json block after a GraphQL example`);
      else last.variables = jsonOr(code.text, name, problems) as Record<string, unknown>;
      return;
    }
    if (language === 'json') {
      if (jsonOr(code.text, name, problems) !== undefined) last.result = { format: 'json', text: code.text };
    } else if (language === 'text') {
      if (code.text.trim() === '') problems.push(`${name}: an empty result checks nothing`);
      else last.result = { format: 'text', text: code.text };
    } else {
      problems.push(`${name}: a result is a \`json result\` or \`text result\` block`);
    }
  });
  for (const example of examples) {
    if (!example.result)
      problems.push(`${example.name}: no \`json result\` or \`text result\` block after it: its answer is not documented`);
  }
  if (reason !== undefined) problems.push(`${file}: a <!-- not-run --> comment with no block after it`);
  if (problems.length > 0) throw new Error(`Documentation examples that cannot be checked:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { examples, notRun };
}

function environmentOf(text: string, file: string, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.trim().split(/\s+/).filter(Boolean)) {
    const match = /^([A-Z][A-Z0-9_]*)=(\S*)$/.exec(pair);
    if (match) env[match[1]!] = match[2]!;
    else problems.push(`${file}: example-env takes NAME=value pairs (got ${JSON.stringify(pair)})`);
  }
  return env;
}

function operationTypeOf(source: string, name: string, problems: string[]): DocExample['operationType'] {
  try {
    const operations = parse(source).definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
    if (operations.length === 1) return operations[0]!.operation;
    problems.push(
      `${name}: a GraphQL example holds exactly one operation (found ${operations.length}); split it, or mark it <!-- not-run: why -->`,
    );
  } catch (error) {
    problems.push(`${name}: not a GraphQL document: ${(error as Error).message}`);
  }
  return undefined;
}

function jsonOr(text: string, name: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push(`${name}: not JSON: ${(error as Error).message}`);
    return undefined;
  }
}

/** The placeholder for a value that differs from run to run. */
export const ANY = '…';

/**
 * `expected` with every ANY replaced by what `actual` holds there, so that a partial match
 * (`toMatchObject`) checks everything else.
 */
export function fillPlaceholders(expected: unknown, actual: unknown): unknown {
  if (expected === ANY) return actual;
  if (Array.isArray(expected)) return expected.map((item, i) => fillPlaceholders(item, Array.isArray(actual) ? actual[i] : undefined));
  if (expected !== null && typeof expected === 'object') {
    const source = actual !== null && typeof actual === 'object' ? (actual as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(expected).map(([key, value]) => [key, fillPlaceholders(value, source[key])]));
  }
  return expected;
}

/** The expected lines not found in `output`, in order (blank expected lines are ignored). */
export function missingLines(expected: string, output: string): string[] {
  const lines = output.split('\n').map((line) => line.replace(/\r$/, ''));
  const wanted = expected.split('\n').filter((line) => line.trim() !== '');
  let at = 0;
  for (const [i, line] of wanted.entries()) {
    const pattern = new RegExp(`^${line.split(ANY).map(escapeRegExp).join('.*')}$`);
    const found = lines.findIndex((candidate, index) => index >= at && pattern.test(candidate));
    if (found < 0) return wanted.slice(i);
    at = found + 1;
  }
  return [];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
