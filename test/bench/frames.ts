/** How the profiles of `bench:profile` name a stack frame and print their shares. */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

/** Where a frame's code comes from: a package, Node itself, or a directory of this project. */
export function packageOf(url: string): string {
  if (url.includes('node_modules/')) return url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
  if (url.startsWith('node:') || !url) return 'node';
  return sourceOf(url).split('/').slice(0, 2).join('/');
}

/** A frame's file, short: from its package's directory, or from src/, test/ or dist/. */
function sourceOf(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|test|dist)\//, '$1/');
}

/** A frame as the tables print it: function, file, line. */
export function frameOf({ functionName, url, lineNumber }: CallFrame): string {
  return `${functionName || '(anonymous)'} ${sourceOf(url)}:${lineNumber + 1}`;
}

/** The `n` largest entries of `map`, each as its share of `total`. */
export function topShares(map: ReadonlyMap<string, number>, total: number, n: number): string {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, value]) => `${((100 * value) / total).toFixed(1).padStart(5)} %  ${key}`)
    .join('\n');
}
