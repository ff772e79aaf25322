import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createGraphiQLAssets, type GraphiQLFiles, IMMUTABLE } from '../../src/graphiql-assets.ts';
import { negotiateCoding } from '../../src/http/content-coding.ts';

/**
 * GraphiQL's files: named by their content, kept a year, in the coding the client takes.
 * Small stand-in files here (the real bundle's brotli takes seconds): the browser test
 * (test/browser/graphiql-wire.test.ts) measures the real ones.
 */
const BASE = '/graphql/assets/';
const font = Buffer.alloc(6000, 'font').toString('base64');
const files = (js = 'window.YogaGraphiQL = {};\n'.repeat(200)): GraphiQLFiles => ({
  js,
  css: `body{color:red}@font-face{font-family:X;src:url(data:font/ttf;base64,${font}) format("truetype")}.i{background:url(data:image/png;base64,AAAA)}`,
  editorWorkerService: 'self.onmessage = () => {};',
  jsonWorker: 'self.onmessage = () => {}; // json',
  graphqlWorker: 'self.onmessage = () => {}; // graphql',
  favicon: `data:image/x-icon;base64,${Buffer.from('not an icon').toString('base64')}`,
});

function urlsOf(page: string): string[] {
  return [...page.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1]!);
}

describe('GraphiQL assets', () => {
  it('names each file by its content: a changed file gets a new URL, the others keep theirs', async () => {
    const one = urlsOf(await createGraphiQLAssets(BASE, () => Promise.resolve(files())).page({ title: 'x' }));
    const two = urlsOf(
      await createGraphiQLAssets(BASE, () => Promise.resolve(files('window.YogaGraphiQL = { v: 2 };'))).page({ title: 'x' }),
    );
    expect(one).toHaveLength(3);
    for (const url of one) expect(url).toMatch(/^\/graphql\/assets\/[\w.-]+\.[0-9A-Za-z_-]{16}\.(js|css|ico)$/);
    const script = (urls: string[]) => urls.find((url) => url.endsWith('.js'));
    expect(script(two)).not.toBe(script(one));
    expect(one.filter((url) => !url.endsWith('.js'))).toEqual(two.filter((url) => !url.endsWith('.js')));
  });

  it('serves each file immutable, brotli or gzip as the client asks, and the exact bytes once decoded', async () => {
    const assets = createGraphiQLAssets(BASE, () => Promise.resolve(files()));
    const [, css, js] = urlsOf(await assets.page({ title: 'x' }));
    await assets.compressed();
    const get = (path: string, acceptEncoding: string | null) => assets.serve(path, acceptEncoding, { Response })!;

    const plain = await get(js!, null);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    const text = await plain.text();
    expect(text).toContain('window.YogaGraphiQL = {};');
    // The workers travel in the script, started from blobs.
    expect(text).toContain('self.MonacoEnvironment');
    expect(text).toContain('// graphql');

    // Browsers send gzip first: brotli is still the one chosen.
    const br = await get(js!, 'gzip, deflate, br, zstd');
    expect(br.headers.get('content-encoding')).toBe('br');
    const brBytes = Buffer.from(await br.arrayBuffer());
    expect(Number(br.headers.get('content-length'))).toBe(brBytes.byteLength);
    expect(brBytes.byteLength).toBeLessThan(text.length / 5);
    expect(brotliDecompressSync(brBytes).toString()).toBe(text);

    const gz = await get(js!, 'gzip');
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(text);

    expect((await get(js!, 'br;q=0, gzip;q=0, identity')).headers.get('content-encoding')).toBeNull();
    expect((await get(js!, 'identity;q=0, deflate')).status).toBe(406);

    // The font left the style sheet for a file of its own, fetched only when text needs it.
    const sheet = await (await get(css!, null)).text();
    const fontUrl = /url\((\/graphql\/assets\/font\.[\w-]+\.ttf)\)/.exec(sheet)?.[1];
    expect(fontUrl).toBeDefined();
    expect(sheet).toContain('data:image/png;base64,AAAA');
    const fontFile = await get(fontUrl!, 'br');
    expect(fontFile.headers.get('content-type')).toBe('font/ttf');
    expect(brotliDecompressSync(Buffer.from(await fontFile.arrayBuffer()))).toEqual(Buffer.from(font, 'base64'));

    expect((await get(`${BASE}graphiql.AAAAAAAAAAAAAAAA.js`, 'br')).status).toBe(404);
    expect(assets.serve('/graphql', 'br', { Response })).toBeUndefined();
  });

  it('writes the page options so that they cannot end its script', async () => {
    const page = await createGraphiQLAssets(BASE, () => Promise.resolve(files())).page({
      title: '<b>',
      defaultQuery: '</script><script>alert(1)',
    });
    expect(page).toContain('<title>&#60;b&#62;</title>');
    expect(page).not.toContain('</script><script>alert(1)');
  });
});

describe('Accept-Encoding', () => {
  const all = ['br', 'gzip', 'identity'] as const;
  it.each([
    [null, 'identity'],
    ['', 'identity'],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['*', 'br'],
    ['deflate', 'identity'],
    ['identity;q=0, *;q=0', undefined],
  ])('%j → %s', (header, coding) => {
    expect(negotiateCoding(header, all)).toBe(coding);
  });
});
