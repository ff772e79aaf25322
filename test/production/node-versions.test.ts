import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { root } from '../support/process.ts';

interface LockEntry {
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string };
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const ciRun = readFileSync(join(root, '.ci/run'), 'utf8');

/** The production dependencies' Node ranges, by package path in the lock file. */
const productionRanges = Object.entries(lock.packages)
  .filter(([path, entry]) => path !== '' && !entry.dev && entry.engines?.node)
  .map(([path, entry]) => ({ path, range: entry.engines!.node! }));

/** The lowest Node version of each major `engines` admits (one `^x.y.z` per major). */
const lowestAdmitted = pkg.engines.node.split('||').map((part) => semver.minVersion(part.trim())!);
const supportedMajors = lowestAdmitted.map((version) => version.major);

describe('Node versions', () => {
  it('admits only Node versions every production dependency supports (no EBADENGINE on npm ci)', () => {
    expect(supportedMajors).toEqual([22, 24]);
    for (const lowest of lowestAdmitted) {
      const refusing = productionRanges.filter(({ range }) => !semver.satisfies(lowest, range));
      expect(refusing, `Node ${lowest.version} is admitted by engines but refused by`).toEqual([]);
    }
  });

  it('CI tests on each supported major and on no other', () => {
    const majors = /for major in ([\d ]+); do\s+npm install/.exec(ciRun)?.[1]?.trim().split(/\s+/).map(Number);
    expect(majors).toEqual(supportedMajors);
  });
});
