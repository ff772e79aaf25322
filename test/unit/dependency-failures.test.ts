import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createDependencyFailures } from '../../src/telemetry/dependency-failures.ts';
import { WARNING_INTERVAL_MS } from '../../src/telemetry/throttled-warnings.ts';

function setUp() {
  let t = 1_000_000;
  const lines: Array<Record<string, unknown>> = [];
  const counted: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const report = createDependencyFailures({ logger, count: (dependency, reason) => counted.push(`${dependency}:${reason}`), now: () => t });
  return { report, lines, counted, advance: (ms: number) => void (t += ms) };
}

describe('dependency failures', () => {
  it('count every failure, and warn once per interval per cause, saying how many were left out', () => {
    const { report, lines, counted, advance } = setUp();
    for (let i = 0; i < 5; i += 1)
      report({
        dependency: 'redis',
        reason: 'unreachable',
        error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    expect(counted).toHaveLength(5);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, dependency: 'redis', reason: 'unreachable', err: { code: 'ECONNREFUSED' } });
    expect(lines[0]).not.toHaveProperty('repeated');

    advance(WARNING_INTERVAL_MS - 1);
    report({ dependency: 'redis', reason: 'unreachable' });
    expect(lines).toHaveLength(1);
    advance(1);
    report({ dependency: 'redis', reason: 'unreachable' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ dependency: 'redis', reason: 'unreachable', repeated: 5 });
    expect(counted).toHaveLength(7);
  });

  it('tell causes apart: another reason or another dependency has its own line', () => {
    const { report, lines } = setUp();
    report({ dependency: 'redis', reason: 'unreachable' });
    report({ dependency: 'redis', reason: 'timeout' });
    report({ dependency: 'jwks', reason: 'unreachable' });
    report({ dependency: 'flatpeak_login', reason: 'refused', details: { status: 401 } });
    report({ dependency: 'flatpeak_login', reason: 'refused', details: { status: 401 } });
    expect(lines.map((line) => `${String(line.dependency)}:${String(line.reason)}`)).toEqual([
      'redis:unreachable',
      'redis:timeout',
      'jwks:unreachable',
      'flatpeak_login:refused',
    ]);
  });

  it('log an error as name, code, message and its cause’s code only: no stack, no cause message', () => {
    const { report, lines } = setUp();
    const cause = Object.assign(new Error('received {"token":"abc"}'), { code: 'UND_ERR_SOCKET' });
    report({ dependency: 'jwks', reason: 'unreachable', error: new TypeError('fetch failed', { cause }) });
    expect(lines[0]).toMatchObject({ err: { name: 'TypeError', message: 'fetch failed' }, cause: 'UND_ERR_SOCKET' });
    expect(JSON.stringify(lines[0])).not.toMatch(/stack|abc|\s{4}at /);
  });
});
