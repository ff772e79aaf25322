import { describe, expect, it } from 'vitest';
import { pathOf } from '../../src/plugins/observability/use-request-log.ts';

describe('the access log path', () => {
  it('is what URL would give as pathname for the targets the server lets through, without the query', () => {
    for (const url of [
      'http://127.0.0.1:4000/graphql',
      'http://h/graphql?query=%7B__typename%7D',
      'https://h:1/metrics?x=1',
      'http://h/',
      'http://h/a/b?c=d?e',
    ]) {
      expect(pathOf(url), url).toBe(new URL(url).pathname);
    }
  });
});
