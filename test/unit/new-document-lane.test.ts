import { expect, it } from 'vitest';
import { useNewDocumentLane } from '../../src/plugins/new-document-lane.ts';

type OnParams = (payload: { params: { query?: string } }) => Promise<void> | void;

const nextIteration = () => new Promise((resolve) => setImmediate(resolve));

it('lets a known document through at once and new ones one per event-loop iteration, in order', async () => {
  const onParams = useNewDocumentLane((document) => document === 'known').onParams as unknown as OnParams;
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
