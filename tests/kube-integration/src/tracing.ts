/*
 * A Jaeger next to the cluster for a generated repository whose services export traces:
 * its k8s/ has a ConfigMap with the key `otlp-endpoint` (the fastapi-microservices
 * template). Jaeger (platform/jaeger/jaeger.sh, built from Go modules) listens for OTLP
 * on the host's node-network address, which pods reach; the ConfigMap is pointed at it,
 * one NetworkPolicy lets the namespace's pods send spans there (the repository's own
 * policies allow only its in-cluster collector), the Deployments restart to read it,
 * and the repository's scripts/verify.sh gets JAEGER_URL for its TRACE check.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './clusterControl';
import { applyServerSide, KUBECTL, run } from './generatedRepos';
import { Clients } from './kube';

const JAEGER_SH = path.join(repoRoot, 'platform', 'jaeger', 'jaeger.sh');
const OTLP_KEY = 'otlp-endpoint';

/** The ConfigMap naming the services' OTLP endpoint, if the repository has one. */
export function traceConfig(objects: any[]): any | undefined {
  return objects.find(
    o => o.kind === 'ConfigMap' && o.data && OTLP_KEY in o.data,
  );
}

/** KEY=VALUE lines as an object. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map(line => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(m => [m[1], m[2]]),
  );
}

/**
 * Runs fn with the environment verify.sh needs for its TRACE check (JAEGER_URL), with a
 * Jaeger receiving the repository's spans; without a trace ConfigMap, just fn({}).
 */
export async function withJaeger<T>(
  c: Clients,
  objects: any[],
  fn: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const config = traceConfig(objects);
  if (!config) return fn({});
  const namespace: string = config.metadata.namespace;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'jaeger-'));
  const jaeger = (command: string) =>
    run('env', [`JAEGER_HOME=${home}`, 'bash', JAEGER_SH, command]);
  try {
    const { JAEGER_OTLP_ENDPOINT, JAEGER_URL } = parseEnv(jaeger('start'));
    const { hostname, port } = new URL(JAEGER_OTLP_ENDPOINT);
    run(KUBECTL, [
      '-n',
      namespace,
      'patch',
      'configmap',
      config.metadata.name,
      '--type=merge',
      '-p',
      JSON.stringify({ data: { [OTLP_KEY]: JAEGER_OTLP_ENDPOINT } }),
    ]);
    await applyServerSide(c, [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name: `${config.metadata.name}-to-test-jaeger`,
          namespace,
          labels: config.metadata.labels,
        },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: `${hostname}/32` } }],
              ports: [{ port: Number(port), protocol: 'TCP' }],
            },
          ],
        },
      },
    ]);
    // The endpoint is read at start: restart, and wait until every pod has it.
    const deployments = objects.filter(
      o => o.kind === 'Deployment' && o.metadata.namespace === namespace,
    );
    for (const d of deployments) {
      run(KUBECTL, [
        '-n',
        namespace,
        'rollout',
        'restart',
        `deployment/${d.metadata.name}`,
      ]);
    }
    for (const d of deployments) {
      run(KUBECTL, [
        '-n',
        namespace,
        'rollout',
        'status',
        `deployment/${d.metadata.name}`,
        '--timeout=240s',
      ]);
    }
    return await fn({ JAEGER_URL });
  } finally {
    jaeger('stop');
    fs.rmSync(home, { recursive: true, force: true });
  }
}
