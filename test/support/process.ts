import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the first stdout JSON log line (so far or to come) for which `match` is true. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `src/main.ts` (or another entry; from source, through tsx) with exactly the given
 * environment; `nodeOptions` go before the script (e.g. `--max-old-space-size=128`, as a
 * container limit would set).
 */
export function startMain(
  env: Record<string, string>,
  { entry = 'src/main.ts', nodeOptions = [] }: { entry?: string; nodeOptions?: readonly string[] } = {},
): Started {
  return startCommand(process.execPath, [...nodeOptions, '--import', 'tsx', entry], env);
}

/**
 * Runs the service as `npm run dev` does from a clone, from source: tools/dev.ts, which
 * starts the development stand-in (sample devices) when FLATPEAK_API_URL is unset, then
 * src/main.ts in the same process.
 */
export function startDev(env: Record<string, string>, { nodeOptions = [] }: { nodeOptions?: readonly string[] } = {}): Started {
  return startMain(env, { entry: 'tools/dev.ts', nodeOptions });
}

/**
 * Runs `command` in `cwd` (the repository by default) with exactly the given environment (and
 * PATH), and with METRICS_PORT off unless given: its default port (9464) is one per machine,
 * and tests run in parallel.
 */
export function startCommand(command: string, args: readonly string[], env: Record<string, string>, cwd = root): Started {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));

  let partial = ''; // a chunk may end in the middle of a line
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const texts = (partial + chunk).split('\n');
    partial = texts.pop()!;
    for (const text of texts) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });

  return {
    child,
    output: () => out,
    waitForLog(match) {
      const earlier = lines.find(match);
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then(({ code }) => reject(new Error(`${command} exited with ${code} before the expected log line:\n${out}`)));
      });
    },
    exit: () => exited,
  };
}

/** Every process descended from `pid` (children, their children…), from /proc, with its command line. */
export function descendantsOf(pid: number): Array<{ pid: number; command: string }> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const found: Array<{ pid: number; command: string }> = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      let command = '';
      try {
        command = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        // ended meanwhile
      }
      found.push({ pid: child, command });
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A loopback port free a moment ago, for a child that does not log the one it got. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `count` distinct free ports. Each is held until all are chosen: ports chosen one by one
 * (or by calls of `freePort` at once) may repeat, since a port given back can be the next
 * one handed out.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((server) => once(server, 'listening')));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  for (const server of servers) server.close();
  return ports;
}
