import { spawn } from 'node:child_process';

/**
 * Brotli at its best quality in a child process. Quality 11 over GraphiQL's 7 MB script
 * needs 130-180 MB while it runs (measured; the window hardly matters), and the allocator
 * keeps ~110 MB of it from then on: in a replica with a 512 MiB limit that is not the
 * service's to hold. A child gives all of it back when it exits.
 */
const CHILD = `
const zlib = require('node:zlib');
const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks);
  const c = zlib.constants;
  const out = zlib.brotliCompressSync(input, { params: {
    [c.BROTLI_PARAM_MODE]: c.BROTLI_MODE_TEXT,
    [c.BROTLI_PARAM_QUALITY]: c.BROTLI_MAX_QUALITY,
    [c.BROTLI_PARAM_LGWIN]: Number(process.argv[1]),
    [c.BROTLI_PARAM_SIZE_HINT]: input.length,
  } });
  process.stdout.end(out);
});
`;

export function brotliMaxInChild(input: Buffer, windowBits: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Only what it needs: no loaders or options of the parent's (NODE_OPTIONS stays, for its limits).
    const child = spawn(process.execPath, ['-e', CHILD, String(windowBits)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    // A service that exits (SIGTERM's drain) takes its child along rather than leave it compressing for nobody.
    const end = () => child.kill();
    process.once('exit', end);
    child.on('close', (code) => {
      process.off('exit', end);
      if (code === 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`brotli child exited with ${code}`));
    });
    child.stdin.on('error', reject);
    child.stdin.end(input);
  });
}
