import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCommand, type Started } from './process.ts';

// Debian's haproxy; HAPROXY points elsewhere on other machines.
const HAPROXY = process.env.HAPROXY || '/usr/sbin/haproxy';

/** Why HAProxy tests cannot run here, or undefined when they can. In CI they must run. */
export const haproxyUnavailable = existsSync(HAPROXY)
  ? undefined
  : `${HAPROXY} is missing: install Debian's haproxy package (apt-get install haproxy) or set HAPROXY to run the fleet test`;

export interface Haproxy {
  readonly url: URL;
  close(): Promise<void>;
}

/**
 * HAProxy in front of replicas on loopback, as a cloud load balancer would be: round robin,
 * a replica taken out once its `/ready` says so twice (checked every 200 ms) and put back when
 * it answers again, a request whose connection failed retried on another replica.
 */
export async function startHaproxy(replicaPorts: readonly number[]): Promise<Haproxy> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'fleet-haproxy-'));
  const config = join(directory, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  timeout http-keep-alive 5s',
      // A replica that closed its listener (draining) refuses the connection: try another.
      '  retries 3',
      '  option redispatch 1',
      '  option http-buffer-request',
      '  retry-on conn-failure empty-response',
      // No kept-alive connection to a replica: none can be reused just as that replica closes it.
      '  option http-server-close',
      'frontend graph',
      `  bind 127.0.0.1:${port}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      '  option httpchk GET /ready',
      '  http-check expect status 200',
      // Two failed checks, not one: on a busy machine one slow /ready must not empty the backend.
      '  timeout check 2s',
      '  default-server inter 200ms fall 2 rise 1',
      ...replicaPorts.map((replica, i) => `  server replica${i} 127.0.0.1:${replica} check`),
      '',
    ].join('\n'),
  );
  const started: Started = startCommand(HAPROXY, ['-db', '-f', config], {});
  const url = new URL(`http://127.0.0.1:${port}/graphql`);
  // Listening once /ready answers through it (some replica is up).
  for (let attempt = 0; ; attempt += 1) {
    try {
      if ((await fetch(new URL('/ready', url))).ok) break;
    } catch {
      // not listening yet
    }
    if (started.child.exitCode !== null || attempt > 100) throw new Error(`haproxy did not start:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async close() {
      started.child.kill('SIGTERM');
      await started.exit();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
