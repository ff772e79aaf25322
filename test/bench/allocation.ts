/**
 * What a process allocates, garbage included, through the inspector's sampling heap profiler
 * (`HeapProfiler.startSampling` keeping the objects minor and major GCs collected): the
 * share of allocated bytes by package and by function. A CPU profile shows garbage
 * collection as one line; this says whose objects it collects.
 */
import type { Inspector } from '../support/heap.ts';

interface SampledNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
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

/** The busiest packages and functions by allocated bytes, grouped as `packageOf` groups them. */
export function printAllocations({ head }: AllocationProfile, packageOf: (url: string) => string, sourceOf: (url: string) => string): void {
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node: SampledNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    total += node.selfSize;
    add(byPackage, packageOf(url), node.selfSize);
    add(byFunction, `${functionName || '(anonymous)'} ${sourceOf(url)}:${lineNumber + 1}`, node.selfSize);
    node.children.forEach(walk);
  };
  walk(head);
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, bytes]) => `${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`)
      .join('\n');
  console.log(
    `\nallocated bytes, sampled: ${total}\n\nby package (share of allocated bytes):\n${top(byPackage, 20)}\n\nby function:\n${top(byFunction, 30)}`,
  );
}
