/*
 * The demo app (deploy/demo/app) on real nodes, for tests and benchmarks: its pod
 * template, a POST from the host, and a rolling update under the steady load of load.ts.
 */
import {
  PatchStrategy,
  setHeaderOptions,
  V1PodSpec,
} from '@kubernetes/client-node';
import * as http from 'node:http';
import {
  Clients,
  col,
  REAL_NODE_LABEL,
  RESTRICTED_CONTAINER_SECURITY,
  RESTRICTED_POD_SECURITY,
  rolloutSucceeded,
  waitForObject,
} from './kube';
import { steadyLoad } from './load';

/** The demo app's pod template: restricted, on a real node, probes on /health and /ready. */
export function appTemplate(
  labels: Record<string, string>,
  image: string,
  env: Record<string, string>,
) {
  const [key, value] = REAL_NODE_LABEL.split('=');
  const spec: V1PodSpec = {
    nodeSelector: { [key]: value },
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 30,
    securityContext: { ...RESTRICTED_POD_SECURITY },
    containers: [
      {
        name: 'app',
        image,
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: 8000 }],
        env: Object.entries({
          DEMO_CHAOS: 'true',
          STARTUP_DELAY_SECONDS: '0',
          ...env,
        }).map(([name, v]) => ({ name, value: v })),
        resources: {
          requests: { cpu: '50m', memory: '64Mi' },
          limits: { cpu: '500m', memory: '128Mi' },
        },
        readinessProbe: {
          httpGet: { path: '/ready', port: 'http' as any },
          periodSeconds: 1,
          failureThreshold: 1,
        },
        livenessProbe: {
          httpGet: { path: '/health', port: 'http' as any },
          periodSeconds: 5,
        },
        securityContext: { ...RESTRICTED_CONTAINER_SECURITY },
      },
    ],
  };
  return { metadata: { labels }, spec };
}

/** One POST from the host (the demo app's /chaos routes); resolves with the status. */
export function postOnce(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, timeout: 5000 },
      res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A Deployment of the demo app behind a ClusterIP Service; resolves with its URL. */
export async function deployBehindService(
  c: Clients,
  ns: string,
  name: string,
  replicas: number,
  image: string,
  env: Record<string, string> = {},
) {
  const labels = { app: name };
  await c.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        },
        template: appTemplate(labels, image, env) as any,
      },
    },
  });
  await c.core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        selector: labels,
        ports: [{ name: 'http', port: 80, targetPort: 'http' as any }],
      },
    },
  });
  await waitForObject(
    col.deployments(ns),
    name,
    rolloutSucceeded,
    120_000,
    `${name} to roll out`,
  );
  const svc = await c.core.readNamespacedService({ name, namespace: ns });
  return `http://${svc.spec!.clusterIP}:80`;
}

/**
 * Rolls the Deployment to `image` while `workers` clients call it through its Service,
 * keeps the load on while the old pods drain and stop, and returns what the clients saw.
 */
export async function rollingUpdateUnderLoad(
  c: Clients,
  ns: string,
  name: string,
  url: string,
  image: string,
  workers = 4,
) {
  const load = steadyLoad(url, { newConnectionClients: workers });
  await new Promise(r => setTimeout(r, 3000));
  const t0 = Date.now();
  await c.apps.patchNamespacedDeployment(
    {
      name,
      namespace: ns,
      body: [
        {
          op: 'replace',
          path: '/spec/template/spec/containers/0/image',
          value: image,
        },
      ],
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  await waitForObject(
    col.deployments(ns),
    name,
    d => rolloutSucceeded(d) && (d.metadata?.generation ?? 0) > 1,
    180_000,
    `the rolling update of ${name} to finish`,
  );
  const rolloutMs = Date.now() - t0;
  // Keep the load on while the old pods drain and stop.
  await new Promise(r => setTimeout(r, 8000));
  return { result: await load.stop(), rolloutMs };
}
