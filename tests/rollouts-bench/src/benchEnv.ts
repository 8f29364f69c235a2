import { ApiServerAuditLog } from '@golden-path/plugin-rollouts-backend/testUtils';
import { KubeConfig } from '@kubernetes/client-node';

/** The running portal and the entity whose page the viewers open. */
export interface PortalEnv {
  /** The running portal backend, e.g. http://127.0.0.1:7007 */
  backendUrl: string;
  /** The entity whose page the viewers open. */
  entity: { kind: string; namespace: string; name: string };
  /** Requests per side of the load test, and pods of the memory test. */
  loadRequests: number;
}

/** What the benchmarks run against; scripts/bench-rollouts.sh sets all of it up. */
export interface BenchEnv extends PortalEnv {
  /** Admin access to the cluster, for the benchmark's own actions. */
  kubeConfig: KubeConfig;
  audit: ApiServerAuditLog;
  /** The identity the portal uses for the cluster, as the audit log names it. */
  /** The portal's identities at the API server (Kubernetes plugin, rollouts plugin). */
  portalUsers: Set<string>;
  /** The entity's Kubernetes namespace. */
  kubeNamespace: string;
  /** Length of each request-counting window. */
  windowSeconds: number;
  /** Pod-Ready latency trials. */
  trials: number;
  memoryPods: number;
}

const HOW =
  'Run the benchmarks with scripts/bench-rollouts.sh (it starts the cluster, the demo workload and the portal).';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set. ${HOW}`);
  }
  return value;
}

/** A positive whole number from the environment, or `fallback` when unset. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number, got '${raw}'`);
  }
  return value;
}

/** The portal part of {@link benchEnv}, enough for a benchmark that needs no cluster. */
export function portalEnv(): PortalEnv {
  return {
    backendUrl: required('BENCH_BACKEND_URL').replace(/\/+$/, ''),
    entity: { kind: 'component', namespace: 'default', name: 'fastapi-demo' },
    loadRequests: positiveInt('BENCH_LOAD_REQUESTS', 2000),
  };
}

export function benchEnv(): BenchEnv {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(required('KUBECONFIG'));
  return {
    ...portalEnv(),
    kubeConfig,
    audit: new ApiServerAuditLog(required('KUBE_AUDIT_LOG')),
    portalUsers: new Set(required('BENCH_PORTAL_USERS').split(',')),
    kubeNamespace: 'fastapi-demo',
    windowSeconds: positiveInt('BENCH_WINDOW_SECONDS', 60),
    trials: positiveInt('BENCH_TRIALS', 10),
    memoryPods: positiveInt('BENCH_MEMORY_PODS', 1000),
  };
}
