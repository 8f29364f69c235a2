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
 * Runs when KUBE_REAL_NODES > 0, and then needs DEMO_APP_IMAGE and DEMO_APP_IMAGE_V2
 * (scripts/test-kube-integration.sh builds the demo app's images, imports them into the
 * nodes and sets both).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  isPodReady,
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
import {
  deployBehindService,
  postOnce,
  rollingUpdateUnderLoad,
} from './demoApp';
import { getOnce } from './load';

const IMAGE = process.env.DEMO_APP_IMAGE;
const IMAGE_V2 = process.env.DEMO_APP_IMAGE_V2;
// On real nodes the images are there (the script imports them): without them the
// suite fails, as testImage() does, rather than being skipped.
if (expectedRealNodes > 0 && !(IMAGE && IMAGE_V2)) {
  throw new Error(
    'DEMO_APP_IMAGE and DEMO_APP_IMAGE_V2 must be set on a cluster with real nodes: ' +
      'run scripts/test-kube-integration.sh (it builds the demo app images and imports them)',
  );
}
const describeReal = expectedRealNodes > 0 ? describe : describe.skip;

describeReal(
  'workloads on a real node: readiness, volumes, rolling updates',
  () => {
    let c: Clients;
    let ns: string;

    const deploy = (
      name: string,
      replicas: number,
      image: string,
      env: Record<string, string> = {},
    ) => deployBehindService(c, ns, name, replicas, image, env);

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
      const { result, rolloutMs } = await rollingUpdateUnderLoad(
        c,
        ns,
        'rolling',
        url,
        IMAGE_V2!,
      );
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
