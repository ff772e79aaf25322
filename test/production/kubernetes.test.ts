import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { root } from '../support/process.ts';

// The manifests' invariants, checked against what the service itself makes of the
// environment they give it (loadConfig), so that a changed default cannot break them quietly.
type Doc = Record<string, any>; // parsed YAML
const directory = join(root, 'deploy', 'kubernetes');
const docs: Doc[] = readdirSync(directory)
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(readFileSync(join(directory, file), 'utf8')).map((doc) => doc.toJS() as Doc));
const only = (kind: string): Doc => {
  const found = docs.filter((doc) => doc.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const deployment = only('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const portNamed = (name: string | number): number =>
  typeof name === 'number' ? name : container.ports.find((port: Doc) => port.name === name).containerPort;

const SECRET_PLACEHOLDERS: Record<string, string> = { FLATPEAK_ACCOUNT_ID: 'acc_placeholder', REDIS_URL: 'rediss://redis.example:6380' };

/** The container's environment as the service would see it; Secret values stand in as placeholders. */
function containerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env as Doc[]) {
    if (entry.valueFrom?.secretKeyRef) env[entry.name] = SECRET_PLACEHOLDERS[entry.name] ?? 'sk_placeholder';
    else env[entry.name] = String(entry.value);
  }
  return env;
}
const config = loadConfig(containerEnv());

const mebibytes = (quantity: string): number => {
  const [, amount, unit] = /^(\d+)(Mi|Gi)$/.exec(quantity) ?? fail(`unexpected quantity ${quantity}`);
  return Number(amount) * (unit === 'Gi' ? 1024 : 1);
};
function fail(message: string): never {
  throw new Error(message);
}

describe('deploy/kubernetes', () => {
  it('holds a Deployment, a Service, a PodDisruptionBudget and a HorizontalPodAutoscaler, all for the same pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(only('Service').spec.selector).toEqual(labels);
    expect(only('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(only('HorizontalPodAutoscaler').spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    const kustomization = parseAllDocuments(readFileSync(join(directory, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Doc;
    expect(new Set(kustomization.resources)).toEqual(
      new Set(readdirSync(directory).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')),
    );
  });

  it('gives the service a configuration it accepts, with variables docs/configuration.md documents, and listens where the probes and the Service look', () => {
    const reference = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    for (const { name } of container.env as Doc[]) expect(reference, name).toContain(`| \`${name}\` |`);
    expect(config.host).toBe('0.0.0.0');
    expect(portNamed('http')).toBe(config.port);
    expect(portNamed(only('Service').spec.ports[0].targetPort)).toBe(config.port);
    // Prometheus scrapes the metrics port, which the Service does not expose (issue 21).
    expect(config.metricsPort).not.toBe(config.port);
    expect(portNamed('metrics')).toBe(config.metricsPort);
    expect(Number(deployment.spec.template.metadata.annotations['prometheus.io/port'])).toBe(config.metricsPort);
    expect(only('Service').spec.ports.map((port: Doc) => portNamed(port.targetPort))).toEqual([config.port]);
  });

  it('probes liveness on /health and readiness on /ready', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    for (const probe of [container.livenessProbe, container.readinessProbe]) expect(portNamed(probe.httpGet.port)).toBe(config.port);
  });

  it('lets a pod drain: stays up after SIGTERM while endpoints update, and is killed only after the grace period', () => {
    expect(config.shutdownDelayMs).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.shutdownDelayMs + config.shutdownGraceMs);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('takes the Flatpeak credentials from a Secret, never from the manifest', () => {
    for (const name of ['FLATPEAK_ACCOUNT_ID', 'FLATPEAK_API_KEY']) {
      const entry = (container.env as Doc[]).find((candidate) => candidate.name === name);
      expect(entry?.value, name).toBeUndefined();
      expect(entry?.valueFrom?.secretKeyRef?.name, name).toEqual(expect.any(String));
    }
    expect(JSON.stringify(docs)).not.toMatch(/sk_[a-z]|"kind":"Secret"/);
  });

  it('spreads the replicas over nodes (and zones), counting the pods of this Deployment', () => {
    const labels = deployment.spec.template.metadata.labels;
    const spread = pod.topologySpreadConstraints as Doc[];
    const byKey = new Map(spread.map((constraint) => [constraint.topologyKey, constraint]));
    for (const key of ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']) {
      expect(byKey.get(key), key).toMatchObject({ maxSkew: 1, labelSelector: { matchLabels: labels } });
      // Preferred, not required: a cluster with fewer nodes than replicas still schedules them all.
      expect(byKey.get(key)?.whenUnsatisfiable, key).toBe('ScheduleAnyway');
    }
  });

  it('shares state through an external Redis whose URL comes from a Secret, and says so', () => {
    const entry = (container.env as Doc[]).find((candidate) => candidate.name === 'REDIS_URL');
    expect(entry?.value).toBeUndefined();
    expect(entry?.valueFrom?.secretKeyRef).toEqual({ name: expect.any(String), key: expect.any(String) });
    expect(config.redisUrl?.protocol).toBe('rediss:');
    // No Redis is deployed by these manifests: the operator provides it, as the comment says.
    expect(docs.some((doc) => JSON.stringify(doc).toLowerCase().includes('redis') && doc.kind !== 'Deployment')).toBe(false);
    expect(readFileSync(join(directory, 'deployment.yaml'), 'utf8')).toMatch(/external Redis/);
    expect(readFileSync(join(root, 'docs', 'operations.md'), 'utf8')).toMatch(/flatpeak-graph-redis/);
  });

  it('runs as non-root on a read-only root filesystem, without privileges', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('requests CPU (for the autoscaler) and memory above the idle bound, with a memory limit above the request and the heap cap', () => {
    const { requests, limits } = container.resources;
    expect(requests.cpu).toEqual(expect.any(String));
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(150);
    expect(mebibytes(limits.memory)).toBeGreaterThan(mebibytes(requests.memory));
    // V8 must collect before the container is killed: the heap cap, the young generation
    // (three semi-spaces: V8's heap_size_limit grows by 3 MB per MB of semi-space), plus
    // what Node holds outside the heap (~150 MB measured), stays under the limit.
    const nodeOptions = container.env.find((variable: { name: string }) => variable.name === 'NODE_OPTIONS')?.value ?? '';
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    const semiSpaceMb = Number(/--max-semi-space-size=(\d+)/.exec(nodeOptions)?.[1] ?? 16);
    expect(heapMb).toBeGreaterThan(0);
    expect(heapMb + 3 * semiSpaceMb + 150).toBeLessThanOrEqual(mebibytes(limits.memory));
  });

  it('scales on CPU from two replicas, and the disruption budget never blocks a drain', () => {
    const hpa = only('HorizontalPodAutoscaler');
    expect(deployment.spec.replicas).toBeUndefined(); // the autoscaler owns the count
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } },
    ]);
    const pdb = only('PodDisruptionBudget');
    if (pdb.spec.maxUnavailable !== undefined) expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
    else expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });
});
