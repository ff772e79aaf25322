import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { freePort, root, type Started, startCommand } from './process.ts';

/** The Hive Gateway configuration the tests run, as documented (docs/consumers.md). */
export const HIVE_GATEWAY_CONFIG = 'examples/hive-gateway/gateway.config.ts';

/** Composes subgraph SDLs with The Guild's composition (what Hive's registry and CLI use). */
export function composeWithTheGuild(subgraphs: ReadonlyArray<{ name: string; sdl: string; url: URL }>): string {
  const result = composeServices(subgraphs.map(({ name, sdl, url }) => ({ name, typeDefs: parse(sdl), url: url.href })));
  if (result.errors) throw new Error(`composition failed: ${result.errors.map((error) => error.message).join('; ')}`);
  return result.supergraphSdl;
}

export interface HiveGateway {
  readonly url: URL;
  readonly process: Started;
  close(): Promise<void>;
}

/**
 * A real Hive Gateway process (its CLI, `hive-gateway supergraph`) over `supergraphSdl`,
 * with examples/hive-gateway/gateway.config.ts and the given environment, on a loopback port.
 */
export async function startHiveGateway(supergraphSdl: string, env: Record<string, string>): Promise<HiveGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'hive-gateway-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  await writeFile(supergraphPath, supergraphSdl);
  const port = await freePort();
  const started = startCommand(
    process.execPath,
    [
      join(root, 'node_modules/@graphql-hive/gateway/dist/bin.js'),
      'supergraph',
      supergraphPath,
      '--config-path',
      join(root, HIVE_GATEWAY_CONFIG),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--disable-websockets',
    ],
    { ...env, NODE_ENV: 'production', LOG_LEVEL: 'error' },
  );
  const url = new URL(`http://127.0.0.1:${port}/graphql`);
  await waitUntilReady(new URL('/readiness', url), started);
  return {
    url,
    process: started,
    async close() {
      started.child.kill('SIGTERM');
      await started.exit();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(readiness: URL, started: Started): Promise<void> {
  let exited = false;
  void started.exit().then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`Hive Gateway exited before it was ready:\n${started.output()}`);
    const ok = await fetch(readiness).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    // Polling a child's port has nothing to wait on but time.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
