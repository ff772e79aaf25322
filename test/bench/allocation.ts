/**
 * What a process allocates, garbage included, through the inspector's sampling heap profiler
 * (`HeapProfiler.startSampling` with objects collected by minor and major GCs kept): the
 * share of allocated bytes by package and by function. A CPU profile shows garbage
 * collection as one line; this says whose objects it collects.
 */

interface SampledNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampledNode[];
}

export interface Allocations {
  readonly head: SampledNode;
}

/** Starts sampling in the process listening for the inspector on `port`; `stop` ends it and returns the profile. */
export async function sampleAllocations(port: number): Promise<{ stop(): Promise<Allocations> }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let lastId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id === undefined) return;
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = ++lastId;
      pending.set(id, resolve as (result: unknown) => void);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call('HeapProfiler.enable');
  await call('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  });
  return {
    async stop() {
      const { profile } = await call<{ profile: Allocations }>('HeapProfiler.stopSampling');
      socket.close();
      return profile;
    },
  };
}

export function printAllocations({ head }: Allocations): void {
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node: SampledNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    total += node.selfSize;
    const source = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/');
    const pkg = url.includes('node_modules/')
      ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
      : url.includes('/dist/')
        ? source.split('/').slice(0, 2).join('/')
        : url || '(native)';
    add(byPackage, pkg, node.selfSize);
    add(byFunction, `${functionName || '(anonymous)'} ${source}:${lineNumber + 1}`, node.selfSize);
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
