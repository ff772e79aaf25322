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
  /** The value of `expression` evaluated in the child's main context (a number, a string, a plain object). */
  evaluate<T>(expression: string): Promise<T>;
  /** Any method of the inspector protocol; rejects with the protocol's error, or when the connection ends first. */
  call<T>(method: string, params?: Record<string, unknown>): Promise<T>;
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
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.addEventListener('message', (event: { data: unknown }) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id!);
    if (message.error) waiting.reject(new Error(`inspector: ${message.error.message}`));
    else waiting.resolve(message.result);
  });
  const ended = () => {
    for (const waiting of pending.values()) waiting.reject(new Error('inspector: the connection ended'));
    pending.clear();
  };
  socket.addEventListener('close', ended);
  socket.addEventListener('error', ended);
  const call = <T>(method: string, params?: Record<string, unknown>) => {
    id += 1;
    const sent = id;
    const done = new Promise<T>((resolve, reject) => {
      pending.set(sent, { resolve: resolve as (result: unknown) => void, reject });
    });
    socket.send(JSON.stringify({ id: sent, method, params }));
    return done;
  };
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
    },
    async evaluate<T>(expression: string) {
      const { result } = await call<{ result: { value: T } }>('Runtime.evaluate', { expression, returnByValue: true });
      return result.value;
    },
    call,
    close: () => socket.close(),
  };
}
