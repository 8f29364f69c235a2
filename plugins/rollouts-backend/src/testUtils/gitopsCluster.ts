/*
 * A cluster holding one service deployed to dev, staging and prod by Flux, as
 * the fastapi-gitops template does it, with Kustomizations as the API server
 * gives them (every condition, the whole inventory, spec fields the view does
 * not read, kubectl's last-applied annotation): for the GitOps
 * environments tests of the read model, the cache projections and the router.
 */
import { Entity } from '@backstage/catalog-model';
import {
  ENTITY_REF_ANNOTATION,
  KubeDeployment,
  KubeKustomization,
  KubePod,
  KubeReplicaSet,
} from '@golden-path/plugin-rollouts-common';
import { FakeCluster } from './FakeCluster';

export const GITOPS_ENTITY_REF = 'component:default/shop';
export const OLD_DIGEST = `sha256:${'a'.repeat(64)}`;
export const NEW_DIGEST = `sha256:${'b'.repeat(64)}`;
export const OLD_REVISION = `main@sha1:${'1'.repeat(40)}`;
export const NEW_REVISION = `main@sha1:${'2'.repeat(40)}`;

export const gitopsEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'shop',
      'backstage.io/source-location':
        'url:http://127.0.0.1:3300/golden-path/shop/src/branch/main/',
    },
  },
  spec: {
    type: 'service',
    owner: 'user:default/owner',
    lifecycle: 'production',
  },
};

const ID_LABEL = { 'backstage.io/kubernetes-id': 'shop' };

function kustomization(
  env: string,
  how: 'repository' | 'portal',
  status: KubeKustomization['status'],
): KubeKustomization {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: {
      name: `shop-${env}`,
      namespace: 'flux-system',
      uid: `uid-ks-${env}`,
      generation: 1,
      // The repository's flux/*.yaml carry the entity's labels; the portal's
      // registration (golden-path:flux:register) names it in an annotation.
      ...(how === 'repository'
        ? {
            labels: {
              ...ID_LABEL,
              'app.kubernetes.io/instance': `shop-${env}`,
            },
          }
        : {
            labels: {
              'app.kubernetes.io/managed-by': 'backstage-golden-path',
              'app.kubernetes.io/part-of': `shop-${env}`,
            },
            annotations: {
              [ENTITY_REF_ANNOTATION]: GITOPS_ENTITY_REF,
              'kubectl.kubernetes.io/last-applied-configuration': '{}',
            },
          }),
    },
    spec: {
      path: `./overlays/${env}`,
      ...(how === 'portal' && { targetNamespace: `shop-${env}` }),
      interval: '5m',
      prune: true,
      wait: true,
      sourceRef: { kind: 'GitRepository', name: 'shop' },
    } as KubeKustomization['spec'],
    status,
  };
}

const conditions = (
  status: 'True' | 'False',
  reason: string,
  message: string,
) => [
  {
    type: 'Ready',
    status,
    reason,
    message,
    lastTransitionTime: '2026-11-29T10:00:00Z',
    observedGeneration: 1,
  },
  {
    type: 'Healthy',
    status,
    reason,
    message,
    lastTransitionTime: '2026-11-29T10:00:00Z',
  },
];

const inventory = (env: string) => ({
  entries: [
    { id: `_shop-${env}__Namespace`, v: 'v1' },
    { id: `shop-${env}_shop__Service`, v: 'v1' },
    { id: `shop-${env}_shop_apps_Deployment`, v: 'v1' },
    { id: `shop-${env}_shop_policy_PodDisruptionBudget`, v: 'v1' },
  ],
});

function workload(env: string, digest: string, podDigests: string[]) {
  const namespace = `shop-${env}`;
  const image = `localhost/shop@${digest}`;
  const deployment: KubeDeployment = {
    metadata: {
      name: 'shop',
      namespace,
      uid: `uid-deploy-${env}`,
      generation: 1,
      labels: ID_LABEL,
      annotations: { [ENTITY_REF_ANNOTATION]: GITOPS_ENTITY_REF },
    },
    spec: {
      replicas: podDigests.length,
      selector: { matchLabels: { app: 'shop' } },
      template: {
        metadata: { labels: { ...ID_LABEL, app: 'shop' } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
    status: {
      replicas: podDigests.length,
      readyReplicas: podDigests.filter(d => d === OLD_DIGEST).length,
    },
  };
  const replicaSets = new Map<string, KubeReplicaSet>();
  const pods = podDigests.map((d, i): KubePod => {
    const hash = d === OLD_DIGEST ? 'old' : 'new';
    if (!replicaSets.has(hash)) {
      replicaSets.set(hash, {
        metadata: {
          name: `shop-${hash}`,
          namespace,
          uid: `uid-rs-${env}-${hash}`,
          ownerReferences: [
            {
              kind: 'Deployment',
              name: 'shop',
              uid: deployment.metadata!.uid!,
              controller: true,
            },
          ],
        },
        spec: {
          template: {
            spec: {
              containers: [{ name: 'app', image: `localhost/shop@${d}` }],
            },
          },
        },
      });
    }
    const running = d === OLD_DIGEST;
    return {
      metadata: {
        name: `shop-${hash}-${i}`,
        namespace,
        uid: `uid-pod-${env}-${i}`,
        labels: { ...ID_LABEL, app: 'shop' },
        ownerReferences: [
          {
            kind: 'ReplicaSet',
            name: `shop-${hash}`,
            uid: `uid-rs-${env}-${hash}`,
            controller: true,
          },
        ],
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: running ? 'True' : 'False' }],
        containerStatuses: [
          {
            name: 'app',
            ready: running,
            restartCount: running ? 0 : 4,
            image: `localhost/shop@${d}`,
            imageID: `localhost/shop@${d}`,
            state: running
              ? { running: {} }
              : { waiting: { reason: 'CrashLoopBackOff' } },
          },
        ],
      },
    };
  });
  return { deployment, replicaSets: [...replicaSets.values()], pods };
}

/**
 * `shop` in three environments: dev failed the health check of a new
 * revision (its new pod crashes, the old one serves), staging runs the old
 * digest, prod (registered through the portal) too; plus another entity's
 * Kustomization.
 */
export function gitopsCluster(name = 'local'): FakeCluster {
  const dev = workload('dev', NEW_DIGEST, [OLD_DIGEST, NEW_DIGEST]);
  const staging = workload('staging', OLD_DIGEST, [OLD_DIGEST, OLD_DIGEST]);
  const prod = workload('prod', OLD_DIGEST, [OLD_DIGEST, OLD_DIGEST]);
  const healthy = {
    observedGeneration: 1,
    lastAppliedRevision: OLD_REVISION,
    lastAttemptedRevision: OLD_REVISION,
    conditions: conditions(
      'True',
      'ReconciliationSucceeded',
      `Applied revision: ${OLD_REVISION}`,
    ),
  };
  const other = kustomization('dev', 'portal', healthy);
  other.metadata = {
    name: 'other-dev',
    namespace: 'flux-system',
    annotations: { [ENTITY_REF_ANNOTATION]: 'component:default/other' },
  };
  return new FakeCluster(name, {
    kustomizations: [
      kustomization('prod', 'portal', {
        ...healthy,
        inventory: inventory('prod'),
      }),
      kustomization('dev', 'repository', {
        ...healthy,
        lastAttemptedRevision: NEW_REVISION,
        inventory: inventory('dev'),
        conditions: conditions(
          'False',
          'HealthCheckFailed',
          'timeout waiting for: [Deployment/shop-dev/shop status: InProgress]',
        ),
      }),
      kustomization('staging', 'repository', {
        ...healthy,
        inventory: inventory('staging'),
      }),
      other,
    ],
    deployments: [dev, staging, prod].map(w => w.deployment),
    replicasets: [dev, staging, prod].flatMap(w => w.replicaSets),
    pods: [dev, staging, prod].flatMap(w => w.pods),
  });
}
