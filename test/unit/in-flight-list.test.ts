import { describe, expect, it } from 'vitest';
import { InFlightList } from '../../src/in-flight-list.ts';

describe('an in-flight list', () => {
  it('holds what was added until it is removed, whatever the order of removal', () => {
    const list = new InFlightList<string>();
    const members = ['a', 'b', 'c', 'd'].map((item) => list.add(item));
    expect(list.size).toBe(4);
    members[1]!.remove(); // from the middle: the last takes its place
    expect([...list].sort()).toEqual(['a', 'c', 'd']);
    members[3]!.remove(); // the last
    members[0]!.remove(); // the first
    expect([...list]).toEqual(['c']);
    const e = list.add('e');
    expect([...list].sort()).toEqual(['c', 'e']);
    members[2]!.remove();
    e.remove();
    expect(list.size).toBe(0);
    expect([...list]).toEqual([]);
  });

  it('removes a member once: a second remove takes nothing else out', () => {
    const list = new InFlightList<number>();
    const first = list.add(1);
    list.add(2);
    list.add(3);
    first.remove();
    first.remove();
    expect([...list].sort()).toEqual([2, 3]);
  });

  it('visits the members there were when iteration began, though members are removed and added meanwhile', () => {
    const list = new InFlightList<number>();
    const members = [1, 2, 3, 4].map((item) => list.add(item));
    const visited: number[] = [];
    for (const item of list) {
      visited.push(item);
      // As a connection's close ends each request waiting on it: each removes itself.
      members[item - 1]!.remove();
      if (item === 1) list.add(5);
    }
    expect(visited.sort()).toEqual([1, 2, 3, 4]);
    expect([...list]).toEqual([5]);
  });

  it('keeps the same item added twice as two members', () => {
    const list = new InFlightList<string>();
    const one = list.add('x');
    list.add('x');
    one.remove();
    expect([...list]).toEqual(['x']);
  });
});
