import { expect, it } from 'vitest';
import { useCostlyRequestLane } from '../../src/plugins/request/use-costly-request-lane.ts';
import { LIMITS } from '../../src/limits.ts';

type OnParams = (payload: { params: { query?: string } }) => Promise<void> | void;
type OnRequestParse = (payload: { request: Request }) => Promise<void> | void;

const nextIteration = () => new Promise((resolve) => setImmediate(resolve));

it('lets a known document through at once and new ones one per event-loop iteration, in order', async () => {
  const onParams = useCostlyRequestLane((document) => document === 'known').onParams as unknown as OnParams;
  const started: string[] = [];
  const waits = ['a', 'b', 'c'].map((query) => {
    const turn = onParams({ params: { query } });
    expect(turn).toBeInstanceOf(Promise);
    return turn!.then(() => started.push(query));
  });
  expect(onParams({ params: { query: 'known' } })).toBeUndefined();
  expect(onParams({ params: {} })).toBeUndefined(); // a hash alone that no plugin turned into a document

  expect(started).toEqual([]);
  await nextIteration();
  expect(started).toEqual(['a']);
  await nextIteration();
  expect(started).toEqual(['a', 'b']);
  await Promise.all(waits);
  expect(started).toEqual(['a', 'b', 'c']);
});

it('makes a large or chunked body wait its turn before it is read, and lets small bodies and GETs through', async () => {
  const onRequestParse = useCostlyRequestLane(() => true).onRequestParse as unknown as OnRequestParse;
  const post = (headers: Record<string, string>) => new Request('http://localhost/graphql', { method: 'POST', headers });
  expect(onRequestParse({ request: post({ 'content-length': String(LIMITS.largeBodyBytes.value) }) })).toBeUndefined();
  expect(onRequestParse({ request: new Request('http://localhost/graphql?query=%7B__typename%7D') })).toBeUndefined();

  const started: string[] = [];
  const large = onRequestParse({ request: post({ 'content-length': String(LIMITS.largeBodyBytes.value + 1) }) })!.then(() =>
    started.push('large'),
  );
  const chunked = onRequestParse({ request: post({}) })!.then(() => started.push('chunked'));
  await nextIteration();
  expect(started).toEqual(['large']);
  await Promise.all([large, chunked]);
  expect(started).toEqual(['large', 'chunked']);
});
