/*
 * A Deployment creates a ReplicaSet whose pods get scheduled onto the (kwok) nodes and
 * become Ready; changing the image rolls them over to a new ReplicaSet without ever
 * dropping below the desired number of available pods (maxUnavailable: 0).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  isPodReady,
  restrictedPodTemplate,
  rolloutComplete,
  rolloutSucceeded,
  waitForList,
  waitForObject,
  watchUntil,
} from './kube';

const NAME = 'web';
const IMAGE_V1 = 'ghcr.io/example/fastapi-demo:1.0.0';
const IMAGE_V2 = 'ghcr.io/example/fastapi-demo:2.0.0';
const REPLICAS = 3;

describe('Deployment -> ReplicaSet -> Pods (kwok nodes)', () => {
  let c: Clients;
  let ns: string;

  beforeAll(async () => {
    c = clients();
    ns = await createTestNamespace(c.core, 'deploy');
  });

  afterAll(async () => {
    if (ns) await deleteTestNamespace(c.core, ns);
  });

  it('creates a ReplicaSet and pods that become Ready', async () => {
    const labels = { 'app.kubernetes.io/name': NAME };
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: NAME, labels },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: labels },
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
          },
          template: restrictedPodTemplate(labels, IMAGE_V1),
        },
      },
    });

    const deployment = await waitForObject(
      col.deployments(ns),
      NAME,
      rolloutSucceeded,
      90_000,
      `deployment ${NAME} to roll out`,
    );
    expect(deployment.status.readyReplicas).toBe(REPLICAS);

    const rsList = await c.apps.listNamespacedReplicaSet({ namespace: ns });
    expect(rsList.items).toHaveLength(1);
    const rs = rsList.items[0];
    expect(rs.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: NAME,
      controller: true,
    });
    expect(rs.status?.readyReplicas).toBe(REPLICAS);

    const pods = (await c.core.listNamespacedPod({ namespace: ns })).items;
    expect(pods).toHaveLength(REPLICAS);
    const kwokNodes = new Set(
      (await c.core.listNode({ labelSelector: 'type=kwok' })).items.map(
        n => n.metadata?.name,
      ),
    );
    for (const pod of pods) {
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        name: rs.metadata?.name,
      });
      expect(isPodReady(pod)).toBe(true);
      // Scheduled by kube-scheduler onto a fake node's Node object, IP assigned by kwok.
      expect(kwokNodes.has(pod.spec?.nodeName)).toBe(true);
      expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(pod.spec?.containers[0].image).toBe(IMAGE_V1);
    }
  });

  it('rolls out an image change to a new ReplicaSet without losing availability', async () => {
    const before = (
      await c.core.listNamespacedPod({ namespace: ns })
    ).items.map(p => p.metadata!.name!);
    const oldRs = (await c.apps.listNamespacedReplicaSet({ namespace: ns }))
      .items[0];

    // Watch availability during the whole rollout, from just before the PATCH.
    let minAvailable = Number.POSITIVE_INFINITY;
    let sawNewReplicaSetScaling = false;
    const rollout = watchUntil(
      col.deployments(ns),
      { fieldSelector: `metadata.name=${NAME}` },
      (items, event) => {
        const d = items.get(NAME);
        if (!d || !event) return false;
        const updated = d.status?.updatedReplicas ?? 0;
        if (d.spec.template.spec.containers[0].image === IMAGE_V2) {
          minAvailable = Math.min(
            minAvailable,
            d.status?.availableReplicas ?? 0,
          );
          if (updated > 0 && updated < REPLICAS) sawNewReplicaSetScaling = true;
        }
        return (
          d.spec.template.spec.containers[0].image === IMAGE_V2 &&
          rolloutComplete(d)
        );
      },
      90_000,
      `rolling update of ${NAME} to ${IMAGE_V2}`,
    );
    await rollout.started;

    await c.apps.patchNamespacedDeployment(
      {
        namespace: ns,
        name: NAME,
        body: {
          spec: {
            template: {
              spec: { containers: [{ name: 'app', image: IMAGE_V2 }] },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await rollout.done;

    // maxUnavailable: 0 -> never fewer than REPLICAS available pods during the rollout.
    expect(minAvailable).toBeGreaterThanOrEqual(REPLICAS);
    expect(sawNewReplicaSetScaling).toBe(true);

    const deployment = await c.apps.readNamespacedDeployment({
      namespace: ns,
      name: NAME,
    });
    expect(
      deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'],
    ).toBe('2');

    const rss = (await c.apps.listNamespacedReplicaSet({ namespace: ns }))
      .items;
    expect(rss).toHaveLength(2);
    const newRs = rss.find(r => r.metadata?.name !== oldRs.metadata?.name)!;
    expect(newRs.spec?.template?.spec?.containers[0].image).toBe(IMAGE_V2);
    expect(newRs.status?.readyReplicas).toBe(REPLICAS);
    const old = rss.find(r => r.metadata?.name === oldRs.metadata?.name)!;
    expect(old.spec?.replicas).toBe(0); // kept for rollback, scaled to zero

    // The old pods are gone (kwok completes their deletion) and all new ones are Ready.
    const after = await waitForList(
      col.pods(ns),
      {},
      items =>
        [...items.values()].filter(p => !p.metadata.deletionTimestamp)
          .length === REPLICAS &&
        [...items.keys()].every(n => !before.includes(n)),
      60_000,
      'old pods to be deleted',
    );
    const newHash = newRs.metadata?.labels?.['pod-template-hash'];
    for (const pod of after.values()) {
      expect(isPodReady(pod)).toBe(true);
      expect(pod.spec.containers[0].image).toBe(IMAGE_V2);
      expect(pod.metadata.labels['pod-template-hash']).toBe(newHash);
    }
  });
});
