/**
 * Every link between README.md and docs/*.md leads somewhere: the file exists and, for a
 * `#fragment`, a heading of it has that anchor (GitHub's slugs, github-slugger). The
 * README is short and the reference sits in docs/, so most answers are one link away.
 * And every file of the repository the text names (`src/…`, `test/…` in code spans) exists,
 * so that a rename cannot leave the documentation pointing at nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import GithubSlugger from 'github-slugger';
import { lexer, type Tokens, walkTokens } from 'marked';
import { describe, expect, it } from 'vitest';
import { root } from './support/process.ts';

const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

function anchorsOf(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  void walkTokens(lexer(readFileSync(join(root, file), 'utf8')), (token) => {
    if (token.type === 'heading') anchors.add(slugger.slug((token as Tokens.Heading).text.replace(/`/g, '')));
  });
  return anchors;
}

describe.each(files)('%s', (file) => {
  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    void walkTokens(lexer(readFileSync(join(root, file), 'utf8')), (token) => {
      if (token.type !== 'link') return;
      const href = (token as Tokens.Link).href;
      if (/^[a-z]+:/i.test(href)) return; // https:, mailto:
      const [path = '', fragment] = href.split('#');
      const target = path ? normalize(join(dirname(file), path)) : file;
      if (!existsSync(join(root, target))) broken.push(`${href}: no file ${target}`);
      else if (fragment !== undefined && target.endsWith('.md') && !anchorsOf(target).has(fragment))
        broken.push(`${href}: no heading #${fragment} in ${target}`);
    });
    expect(broken).toEqual([]);
  });

  it('names only files and folders of the repository that exist', () => {
    const missing: string[] = [];
    void walkTokens(lexer(readFileSync(join(root, file), 'utf8')), (token) => {
      if (token.type !== 'codespan') return;
      const text = (token as Tokens.Codespan).text;
      if (!REPOSITORY_PATH.test(text)) return;
      if (!existsSync(join(root, text))) missing.push(text);
    });
    expect(missing).toEqual([]);
  });
});

/** A path under one of the repository's folders, without wildcards or placeholders; test/artifacts/ is written by the tests. */
const REPOSITORY_PATH = /^(?!test\/artifacts\/)(?:src|test|examples|deploy|scripts|docs)\/[\w./-]+$/;

describe('README.md', () => {
  it('stays a front door of at most 250 lines: the reference belongs in docs/', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
  });
});
