/**
 * What a process allocates, garbage included, through the inspector's sampling heap profiler
 * (`HeapProfiler.startSampling` keeping the objects minor and major GCs collected): the
 * share of allocated bytes by package and by function. A CPU profile shows garbage
 * collection as one line; this says whose objects it collects.
 */
import type { Inspector } from '../support/heap.ts';
import { type CallFrame, frameOf, packageOf, topShares } from './frames.ts';

interface SampledNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SampledNode[];
}

/** A `.heapprofile`, as DevTools opens it. */
export interface AllocationProfile {
  readonly head: SampledNode;
}

/** Starts sampling; `stop` ends it and returns the profile. */
export async function sampleAllocations(inspector: Inspector): Promise<{ stop(): Promise<AllocationProfile> }> {
  await inspector.call('HeapProfiler.enable');
  await inspector.call('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  });
  return {
    async stop() {
      const { profile } = await inspector.call<{ profile: AllocationProfile }>('HeapProfiler.stopSampling');
      return profile;
    },
  };
}

/** The busiest packages and functions by allocated bytes. */
export function printAllocations({ head }: AllocationProfile): void {
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node: SampledNode) => {
    total += node.selfSize;
    add(byPackage, packageOf(node.callFrame.url), node.selfSize);
    add(byFunction, frameOf(node.callFrame), node.selfSize);
    node.children.forEach(walk);
  };
  walk(head);
  console.log(
    `\nallocated bytes, sampled: ${total}\n\nby package (share of allocated bytes):\n${topShares(byPackage, total, 20)}\n\nby function:\n${topShares(byFunction, total, 30)}`,
  );
}
