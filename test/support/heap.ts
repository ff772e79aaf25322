import { once } from 'node:events';
import { WebSocket } from 'undici';

export interface Memory {
  readonly rss: number;
  readonly heap: number;
}

/** RSS and heap used as the service reports them on its /metrics (METRICS_PORT; prom-client's default metrics). */
export async function memoryOf(metricsUrl: URL): Promise<Memory> {
  const text = await fetch(metricsUrl).then((response) => response.text());
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes') };
}

export interface Inspector {
  /** A full garbage collection, so that the heap shows what is retained rather than not yet collected. */
  collectGarbage(): Promise<void>;
  close(): void;
}

/**
 * The inspector of a child started with `--inspect=127.0.0.1:0` (tests and benchmarks only),
 * found by the address it prints on stderr.
 */
export async function connectInspector(output: () => string): Promise<Inspector> {
  const address = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(output())?.[0];
  if (!address) throw new Error(`no inspector address in:\n${output()}`);
  const socket = new WebSocket(address);
  await once(socket, 'open');
  let id = 0;
  return {
    collectGarbage() {
      id += 1;
      const sent = id;
      const done = new Promise<void>((resolve) => {
        const onMessage = (event: { data: unknown }) => {
          if ((JSON.parse(String(event.data)) as { id?: number }).id !== sent) return;
          socket.removeEventListener('message', onMessage);
          resolve();
        };
        socket.addEventListener('message', onMessage);
      });
      socket.send(JSON.stringify({ id: sent, method: 'HeapProfiler.collectGarbage' }));
      return done;
    },
    close: () => socket.close(),
  };
}
