import type { Fault, FaultRule } from '../../tools/standin/server.ts';

/** `fault` for requests to exactly `path`, the first `times` of them. */
export function faultOn(path: string, fault: Fault, times = Number.POSITIVE_INFINITY): FaultRule {
  let seen = 0;
  return (request) => {
    if (request.path !== path) return undefined;
    seen += 1;
    return seen <= times ? fault : undefined;
  };
}

/** The first rule that has a fault for the request wins. */
export function anyOf(...rules: FaultRule[]): FaultRule {
  return (request) => {
    for (const rule of rules) {
      const fault = rule(request);
      if (fault) return fault;
    }
    return undefined;
  };
}

/** A small deterministic PRNG (mulberry32): the soak test's faults are the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
