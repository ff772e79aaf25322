import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { freePort } from './process.ts';

// Debian's redis-server; REDIS_SERVER points elsewhere on other machines.
const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';

/** Why Redis tests cannot run here, or undefined when they can. In CI they must run. */
export const redisUnavailable = existsSync(REDIS_SERVER)
  ? undefined
  : `${REDIS_SERVER} is missing: install Debian's redis-server package (apt-get install redis-server) or set REDIS_SERVER to run the shared-state tests`;

export interface RedisServer {
  readonly url: URL;
  /** Stops the server (SIGKILL: as abrupt as an outage). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A redis-server of the test's own on a free loopback port, keeping nothing on disk. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  async function start(): Promise<void> {
    const started = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = started;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      started.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
  }
  async function kill(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  }
  await start();
  return { url: new URL(`redis://127.0.0.1:${port}`), kill, restart: start, close: kill };
}
