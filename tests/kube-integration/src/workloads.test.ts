/*
 * What Kubernetes does to real processes, watched on the local cluster's real node
 * with the demo app (deploy/demo/app, image DEMO_APP_IMAGE):
 *  - a pod whose readiness probe fails leaves its Service's EndpointSlice
 *    (conditions.ready=false) and traffic through the Service stops reaching it;
 *  - data on a PersistentVolumeClaim survives deleting the pod (the default
 *    StorageClass of the local-path-provisioner add-on);
 *  - a rolling update of a Deployment behind a Service, under steady load from the
 *    host, loses no request: the load generator counts non-2xx answers and
 *    connection errors and prints them.
 *
 * Runs when KUBE_REAL_NODES > 0 and DEMO_APP_IMAGE is set (scripts/test-kube-integration.sh
 * builds the demo app's images, imports them into the nodes and sets both).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  PatchStrategy,
  setHeaderOptions,
  V1PodSpec,
} from '@kubernetes/client-node';
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  isPodReady,
  REAL_NODE_LABEL,
  rolloutSucceeded,
  waitForList,
  waitForObject,
} from './kube';
import {
  eventually,
  expectedRealNodes,
  httpGet,
  realPodSpec,
  recordTiming,
} from './realNode';

const IMAGE = process.env.DEMO_APP_IMAGE;
const IMAGE_V2 = process.env.DEMO_APP_IMAGE_V2;
const describeReal =
  expectedRealNodes > 0 && IMAGE && IMAGE_V2 ? describe : describe.skip;

/** The demo app's pod template: restricted, on a real node, probes on /health and /ready. */
function appTemplate(
  labels: Record<string, string>,
  image: string,
  env: Record<string, string>,
) {
  const [key, value] = REAL_NODE_LABEL.split('=');
  const spec: V1PodSpec = {
    nodeSelector: { [key]: value },
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 30,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    },
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
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
      },
    ],
  };
  return { metadata: { labels }, spec };
}

/** One GET with a fresh connection (no keep-alive: every request is routed anew). */
function getOnce(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, res => {
      const chunks: Buffer[] = [];
      res.on('data', d => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** One POST from the host (the demo app's /chaos routes); resolves with the status. */
function postOnce(url: string): Promise<number> {
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

/** Steady load: `workers` clients in a loop until stopped; counts every outcome. */
function steadyLoad(url: string, workers: number) {
  const result = {
    requests: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    versions: new Map<string, number>(),
    failures: [] as string[],
  };
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      result.requests++;
      try {
        const res = await getOnce(url);
        if (res.status >= 200 && res.status < 300) {
          result.ok++;
          const version = JSON.parse(res.body).version as string;
          result.versions.set(version, (result.versions.get(version) ?? 0) + 1);
        } else {
          result.non2xx++;
          result.failures.push(`HTTP ${res.status}`);
        }
      } catch (e) {
        result.errors++;
        result.failures.push(String((e as Error).message ?? e));
      }
    }
  });
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

describeReal(
  'workloads on a real node: readiness, volumes, rolling updates',
  () => {
    let c: Clients;
    let ns: string;

    async function deploy(
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

    async function readyPods(app: string) {
      const pods = await c.core.listNamespacedPod({
        namespace: ns,
        labelSelector: `app=${app}`,
      });
      return pods.items.filter(
        p => isPodReady(p) && !p.metadata?.deletionTimestamp,
      );
    }

    beforeAll(async () => {
      c = clients();
      ns = await createTestNamespace(c.core, 'workloads');
    }, 60_000);

    afterAll(async () => {
      if (ns) await deleteTestNamespace(c.core, ns, 120_000);
    }, 150_000);

    it('a failing readiness probe takes the pod out of the EndpointSlice, and traffic stops reaching it', async () => {
      const url = await deploy('ready', 2, IMAGE!);
      const [unready, other] = await readyPods('ready');
      const t0 = Date.now();
      expect(
        await postOnce(
          `http://${unready.status!.podIP}:8000/chaos/unready?seconds=120`,
        ),
      ).toBe(200);
      await waitForList(
        col.endpointSlices(ns),
        { labelSelector: 'kubernetes.io/service-name=ready' },
        slices => {
          const eps = [...slices.values()].flatMap(
            (s: any) => s.endpoints ?? [],
          );
          const mine = eps.find(
            (e: any) => e.targetRef?.name === unready.metadata!.name,
          );
          return mine !== undefined && mine.conditions?.ready === false;
        },
        30_000,
        'the EndpointSlice to mark the pod not ready',
      );
      recordTiming(
        'readiness failure → EndpointSlice ready=false',
        Date.now() - t0,
      );
      // kube-proxy follows the EndpointSlice: every answer now comes from the other pod.
      await eventually(async () => {
        const pods = new Set<string>();
        for (let i = 0; i < 30; i++)
          pods.add(JSON.parse((await getOnce(url)).body).pod);
        expect([...pods]).toEqual([other.metadata!.name]);
      }, 20_000);
      // The pod itself still runs and answers directly: only the Service left it.
      expect(
        (await httpGet(`http://${unready.status!.podIP}:8000/health`)).status,
      ).toBe(200);
    }, 180_000);

    it('data on a PersistentVolumeClaim survives deleting the pod', async () => {
      await c.core.createNamespacedPersistentVolumeClaim({
        namespace: ns,
        body: {
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: '16Mi' } },
          },
        },
      });
      const token = randomBytes(8).toString('hex');
      const podWith = (name: string, command: string[]) => ({
        metadata: { name },
        spec: {
          ...realPodSpec(command, {
            restartPolicy: 'Never',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              fsGroup: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
          }),
        },
      });
      const withVolume = (pod: any) => {
        pod.spec.volumes.push({
          name: 'data',
          persistentVolumeClaim: { claimName: 'data' },
        });
        pod.spec.containers[0].volumeMounts.push({
          name: 'data',
          mountPath: '/data',
        });
        return pod;
      };
      await c.core.createNamespacedPod({
        namespace: ns,
        body: withVolume(
          podWith('writer', ['sh', '-c', `echo ${token} > /data/token`]),
        ),
      });
      await waitForObject(
        col.pods(ns),
        'writer',
        p => p.status?.phase === 'Succeeded',
        90_000,
        'the writer pod',
      );
      await c.core.deleteNamespacedPod({ name: 'writer', namespace: ns });
      await waitForList(
        col.pods(ns),
        { fieldSelector: 'metadata.name=writer' },
        items => items.size === 0,
        60_000,
        'the writer pod to be gone',
      );
      await c.core.createNamespacedPod({
        namespace: ns,
        body: withVolume(podWith('reader', ['cat', '/data/token'])),
      });
      await waitForObject(
        col.pods(ns),
        'reader',
        p => p.status?.phase === 'Succeeded',
        90_000,
        'the reader pod',
      );
      const log = await c.core.readNamespacedPodLog({
        name: 'reader',
        namespace: ns,
      });
      expect(log.trim()).toBe(token);
      const pvc = await c.core.readNamespacedPersistentVolumeClaim({
        name: 'data',
        namespace: ns,
      });
      expect(pvc.status?.phase).toBe('Bound');
    }, 240_000);

    it('a rolling update under steady load loses no request', async () => {
      const url = await deploy('rolling', 3, IMAGE!, { DRAIN_SECONDS: '3' });
      const load = steadyLoad(url, 4);
      await new Promise(r => setTimeout(r, 3000));
      const t0 = Date.now();
      await c.apps.patchNamespacedDeployment(
        {
          name: 'rolling',
          namespace: ns,
          body: [
            {
              op: 'replace',
              path: '/spec/template/spec/containers/0/image',
              value: IMAGE_V2!,
            },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      await waitForObject(
        col.deployments(ns),
        'rolling',
        d => rolloutSucceeded(d) && (d.metadata?.generation ?? 0) > 1,
        180_000,
        'the rolling update to finish',
      );
      const rolloutMs = Date.now() - t0;
      // Keep the load on while the old pods drain and stop.
      await new Promise(r => setTimeout(r, 8000));
      const result = await load.stop();
      recordTiming(
        'rolling update under load',
        rolloutMs,
        `${result.requests} requests, ${result.non2xx} non-2xx, ${
          result.errors
        } connection errors; versions ${JSON.stringify(
          Object.fromEntries(result.versions),
        )}`,
      );
      expect(result.failures.slice(0, 5)).toEqual([]);
      expect({ non2xx: result.non2xx, errors: result.errors }).toEqual({
        non2xx: 0,
        errors: 0,
      });
      expect(result.requests).toBeGreaterThan(100);
      // Both versions answered: the update really happened under the load.
      expect(result.versions.get('1.0.0')).toBeGreaterThan(0);
      expect(result.versions.get('2.0.0')).toBeGreaterThan(0);
    }, 300_000);
  },
);
