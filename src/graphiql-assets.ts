import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import { brotliMaxInChild } from './brotli-child.ts';
import { type ContentCoding, isCompressible, negotiateCoding } from './http/content-coding.ts';

const gzipAsync = promisify(gzip);

/**
 * GraphiQL's files (the `@graphql-yoga/render-graphiql` bundle) served as files of their
 * own: one script (GraphiQL with Monaco's three web workers), the style sheet, its fonts and
 * the favicon, each under a URL named by its content's hash, `immutable` for a year, in the
 * best coding the browser takes. The bundle inlines all of them in one 9 MB page, sent whole
 * on every visit: as files, a browser fetches only the fonts it draws with, keeps
 * everything, and the next visit costs the page alone (~1 KB). The first costs ~1.4 MB.
 *
 * Made on the first visit, not at start-up: a service nobody opens GraphiQL on never holds
 * the 9 MB (idle memory matters per replica), nor spends the CPU. The first visitor waits
 * for a gzip -9 pass (about half a second of CPU, off the event loop). Brotli at its best
 * quality then takes 10 to 20 s of CPU and, for the script, 130-180 MB while it runs
 * (measured): it runs in a child process (brotli-child.ts), one file at a time, and until a
 * file's brotli is ready the file is served gzip, which the browser keeps as it would the
 * other.
 */
export interface GraphiQLAssets {
  /** The page: small HTML that loads the files. */
  page(options: object): Promise<string>;
  /** The answer for a GET of a path under `basePath`, or undefined for any other path. */
  serve(pathname: string, acceptEncoding: string | null, fetchAPI: { Response: typeof Response }): Promise<Response> | undefined;
  /** Starts making the files (if not yet), and settles when every one is in its best coding. */
  compressed(): Promise<void>;
}

export interface Asset {
  readonly name: string;
  readonly type: string;
  /** Each coding ready so far; identity always. */
  readonly codings: Map<ContentCoding, Buffer>;
}

interface Bundle {
  readonly assets: Map<string, Asset>;
  readonly urls: {
    readonly js: string;
    readonly css: string;
    readonly favicon: string;
  };
  /** Settles when every file is in gzip too. */
  readonly gzipped: Promise<void>;
  /** Settles when every file is in brotli too. */
  readonly compressed: Promise<void>;
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';

// Data URLs in the style sheet larger than this become files: fonts, which the browser then
// fetches only when text needs them. Smaller ones (a few icons) stay inline, a request saved.
const INLINE_MAX = 4 * 1024;

const byBasePath = new Map<string, GraphiQLAssets>();

/**
 * The assets served under `basePath` (the GraphQL endpoint's path and `/assets/`): one per
 * path in the process, so that apps made side by side (tests) compress them once.
 */
export function graphiqlAssets(basePath: string): GraphiQLAssets {
  let assets = byBasePath.get(basePath);
  if (!assets) byBasePath.set(basePath, (assets = createGraphiQLAssets(basePath)));
  return assets;
}

/** The bundle's files, as `@graphql-yoga/render-graphiql/graphiql` exports them. */
export type GraphiQLFiles = Pick<
  typeof import('@graphql-yoga/render-graphiql/graphiql'),
  'css' | 'editorWorkerService' | 'favicon' | 'graphqlWorker' | 'js' | 'jsonWorker'
>;

/** The assets of the bundle `files` gives (a test gives small ones); `graphiqlAssets` for the real ones, shared. */
export function createGraphiQLAssets(
  basePath: string,
  files: () => Promise<GraphiQLFiles> = () => import('@graphql-yoga/render-graphiql/graphiql'),
): GraphiQLAssets {
  let bundle: Promise<Bundle> | undefined;
  const load = () => (bundle ??= files().then((loaded) => makeBundle(basePath, loaded)));
  return {
    async page(options) {
      return renderPage((await load()).urls, options);
    },
    serve(pathname, acceptEncoding, fetchAPI) {
      if (!pathname.startsWith(basePath)) return undefined;
      return load().then(async ({ assets, gzipped }) => {
        const asset = assets.get(pathname.slice(basePath.length));
        if (!asset) return new fetchAPI.Response('', { status: 404, statusText: 'Not Found' });
        // The first visitor waits for gzip (a second or so), rather than take 7 MB as they are.
        if (!asset.codings.has('gzip') && isCompressible(asset.type) && negotiateCoding(acceptEncoding, ['gzip', 'identity']) === 'gzip')
          await gzipped;
        const coding = negotiateCoding(acceptEncoding, [...asset.codings.keys()]);
        if (!coding) return new fetchAPI.Response('', { status: 406, statusText: 'Not Acceptable' });
        const body = asset.codings.get(coding)!;
        const headers: Record<string, string> = {
          'content-type': asset.type,
          'content-length': String(body.byteLength),
          'cache-control': IMMUTABLE,
          'x-content-type-options': 'nosniff',
        };
        if (isCompressible(asset.type)) headers.vary = 'Accept-Encoding';
        if (coding !== 'identity') headers['content-encoding'] = coding;
        return new fetchAPI.Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
      });
    },
    async compressed() {
      await (
        await load()
      ).compressed;
    },
  };
}

type Files = GraphiQLFiles;

function makeBundle(basePath: string, files: Files): Bundle {
  const assets = new Map<string, Asset>();
  const add = (stem: string, extension: string, type: string, content: Buffer): string => {
    const hash = createHash('sha256').update(content).digest('base64url').slice(0, 16);
    const name = `${stem}.${hash}.${extension}`;
    assets.set(name, { name, type, codings: new Map([['identity', content]]) });
    return basePath + name;
  };
  const css = files.css.replace(/url\((["']?)(data:[^"')]+)\1\)/g, (whole, _quote: string, url: string) => {
    if (url.length <= INLINE_MAX) return whole;
    const data = parseDataUrl(url);
    return data ? `url(${add('font', data.extension, data.type, data.content)})` : whole;
  });
  const favicon = parseDataUrl(files.favicon);
  const urls = {
    js: add('graphiql', 'js', 'text/javascript; charset=utf-8', Buffer.from(script(files))),
    css: add('graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(css)),
    favicon: favicon ? add('favicon', favicon.extension, favicon.type, smallIcons(favicon.content)) : files.favicon,
  };
  const gzipped = compressAll([...assets.values()], 'gzip');
  return { assets, urls, gzipped, compressed: gzipped.then(() => compressAll([...assets.values()], 'br')) };
}

/**
 * One script: Monaco's three workers (started on the first load, each as its page asks)
 * and GraphiQL. Their sources share much (Monaco's core, graphql-js, the language-server
 * types): brotli finds it across one file, not across four, which saves ~200 KB of 1.5 MB
 * (measured). The workers start from blobs of their sources, as the bundle's page did.
 */
function script(files: Files): string {
  const workers = { editorWorkerService: files.editorWorkerService, json: files.jsonWorker, graphql: files.graphqlWorker };
  return `(() => {
  const sources = ${JSON.stringify(workers)};
  const urls = {};
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: (moduleId, label) => (urls[label] ??= URL.createObjectURL(new Blob([sources[label]], { type: 'text/javascript' }))),
  };
})();
${files.js};
`;
}

async function compressAll(assets: readonly Asset[], coding: 'gzip' | 'br'): Promise<void> {
  for (const asset of assets) {
    if (!isCompressible(asset.type)) continue;
    const identity = asset.codings.get('identity')!;
    keep(
      asset,
      coding,
      // A coding that fails is not kept: the file goes out as it is, or gzip.
      coding === 'gzip'
        ? await gzipAsync(identity, { level: constants.Z_BEST_COMPRESSION }).catch(() => undefined)
        : // A 4 MB window (brotli's default): 16 MB saves 5 KB more and needs 30 MB more while it runs.
          await brotliMaxInChild(identity, 22).catch(() => undefined),
    );
  }
}

/** A coding is kept only where it saves something. */
function keep(asset: Asset, coding: ContentCoding, body: Buffer | undefined): void {
  if (body && body.byteLength < asset.codings.get('identity')!.byteLength) asset.codings.set(coding, body);
}

const EXTENSIONS: Record<string, string> = {
  'font/ttf': 'ttf',
  'font/woff': 'woff',
  'font/woff2': 'woff2',
  'image/x-icon': 'ico',
  'image/png': 'png',
  'image/svg+xml': 'svg',
};

/**
 * The icon's images of 32 pixels and less: the bundle's holds six sizes up to 256 (110 KB),
 * and a tab shows 16 or 32.
 */
function smallIcons(ico: Buffer): Buffer {
  const count = ico.length >= 6 && ico.readUInt16LE(0) === 0 && ico.readUInt16LE(2) === 1 ? ico.readUInt16LE(4) : 0;
  if (count === 0 || ico.length < 6 + 16 * count) return ico;
  const small = [];
  for (let i = 0; i < count; i++) {
    const entry = ico.subarray(6 + 16 * i, 6 + 16 * (i + 1));
    const [width] = entry;
    const size = entry.readUInt32LE(8);
    const offset = entry.readUInt32LE(12);
    // Width 0 means 256.
    if (width !== 0 && width! <= 32 && offset + size <= ico.length) small.push({ entry, image: ico.subarray(offset, offset + size) });
  }
  if (small.length === 0) return ico;
  const header = Buffer.alloc(6 + 16 * small.length);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(small.length, 4);
  let offset = header.length;
  small.forEach(({ entry, image }, i) => {
    entry.copy(header, 6 + 16 * i);
    header.writeUInt32LE(offset, 6 + 16 * i + 12);
    offset += image.length;
  });
  return Buffer.concat([header, ...small.map(({ image }) => image)]);
}

function parseDataUrl(url: string): { type: string; extension: string; content: Buffer } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+)((?:;[^,;]*)*?)(;base64)?,(.*)$/s.exec(url);
  if (!match) return undefined;
  const [, type, , base64, data] = match;
  const extension = EXTENSIONS[type!];
  if (!extension) return undefined;
  const content = base64 ? Buffer.from(data!, 'base64') : Buffer.from(decodeURIComponent(data!));
  return { type: type!, extension, content };
}

/**
 * The page: the bundle's own markup, with files for what it inlined. Monaco's workers are
 * started from their URLs (same origin), as the bundle's page started them from blobs.
 */
function renderPage(urls: Bundle['urls'], options: object): string {
  const title = 'title' in options && typeof options.title === 'string' ? options.title : 'GraphiQL';
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(title)}</title>
    <link rel="icon" href="${urls.favicon}" />
    <link rel="stylesheet" href="${urls.css}" />
    <script src="${urls.js}"></script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${inlineJson(options)});
    </script>
  </body>
</html>
`;
}

/** JSON that cannot end the script element it is written in. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
