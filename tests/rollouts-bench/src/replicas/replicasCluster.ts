import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { sleep } from '../report';
import { fakeNodePodSpec } from '../scaleWorkload';

/**
 * ClusterRoles of deploy/demo/50-portal-rbac.yaml: what the rollouts plugin's
 * own identity reads cluster-wide and writes where a RoleBinding allows it.
 * The test binds its own ServiceAccount to them; it never creates or changes
 * them (scripts/test-replicas.sh applies deploy/demo when they are missing).
 */
export const ROLLOUTS_READ_ROLE = 'backstage-rollouts-read';
export const ROLLOUTS_WRITE_ROLE = 'backstage-rollouts-write';

const SLOT = 'app.kubernetes.io/slot';
/**
 * The local cluster's own fake nodes (KWOK's role label), not the ones a
 * running scale benchmark adds and deletes again.
 */
const FAKE_NODE_LABELS = { type: 'kwok', 'kubernetes.io/role': 'agent' };
const FAKE_NODE_SELECTOR = Object.entries(FAKE_NODE_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');
const ENTITY_REF = 'rollouts.backstage.io/entity-ref';

/** A ServiceAccount's name in the API server's audit log. */
export const serviceAccountUsername = (namespace: string, name: string) =>
  `system:serviceaccount:${namespace}:${name}`;

/** How the replicas reach the cluster: app-config.cluster.yaml's variables. */
export interface ClusterConnection {
  url: string;
  caData: string;
  token: string;
  /** The identity's name in the API server's audit log. */
  username: string;
}

/**
 * A namespace of the test's own (`<prefix>-<random>`) holding the blue-green
 * pair of entity `component:default/<namespace>` on the fake (KWOK) nodes,
 * and the ServiceAccount the replicas use, bound to deploy/demo's rollouts
 * ClusterRoles (reads cluster-wide, writes in this namespace only).
 */
export class ReplicasCluster {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  private readonly rbac: RbacAuthorizationV1Api;
  readonly entityName: string;
  readonly entityRef: string;
  /** The pods of the pair, once runPair() made them. */
  readonly podNames: string[] = [];

  constructor(readonly kubeConfig: KubeConfig, readonly namespace: string) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    this.entityName = namespace;
    this.entityRef = `component:default/${namespace}`;
  }

  static forPrefix(kubeConfig: KubeConfig, prefix: string) {
    return new ReplicasCluster(
      kubeConfig,
      `${prefix}-${randomBytes(3).toString('hex')}`,
    );
  }

  private get readBindingName() {
    return `${this.namespace}-rollouts-read`;
  }

  /** Fails, naming where they come from, when the ClusterRoles are missing. */
  private async checkRolesExist(names: string[], from: string) {
    for (const name of names) {
      await this.rbac.readClusterRole({ name }).catch(() => {
        throw new Error(`ClusterRole ${name} (${from}) is not in the cluster`);
      });
    }
  }

  /**
   * For replicas the test starts itself: creates the namespace, the pair, and
   * an identity of the test's own (ServiceAccount portal-rollouts in the
   * namespace, bound to deploy/demo's rollouts ClusterRoles); returns how the
   * replicas reach the cluster with it.
   */
  async create(): Promise<ClusterConnection> {
    await this.checkRolesExist(
      [ROLLOUTS_READ_ROLE, ROLLOUTS_WRITE_ROLE],
      'deploy/demo/50-portal-rbac.yaml; scripts/test-replicas.sh applies deploy/demo first',
    );
    const namespace = this.namespace;
    await this.createNamespace();
    const serviceAccount = 'portal-rollouts';
    const subjects = [
      { kind: 'ServiceAccount', name: serviceAccount, namespace },
    ];
    await this.core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: serviceAccount } },
    });
    await this.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: this.readBindingName },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: ROLLOUTS_READ_ROLE,
        },
        subjects,
      },
    });
    await this.bindWriteRole(ROLLOUTS_WRITE_ROLE, subjects);
    await this.createPairObjects();
    const token = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 7200 } },
    });
    const cluster = this.kubeConfig.getCurrentCluster()!;
    return {
      url: cluster.server,
      caData:
        cluster.caData ?? fs.readFileSync(cluster.caFile!).toString('base64'),
      token: token.status!.token,
      username: serviceAccountUsername(namespace, serviceAccount),
    };
  }

  /**
   * For a deployed portal (deploy/portal): creates the namespace and the pair
   * and opts the namespace in to the portal's writes as an application team
   * would (deploy/portal/examples/rollouts-rolebinding.example.yaml): a
   * RoleBinding of the portal's rollouts ServiceAccount to `writeRole`. Its
   * reads are cluster-wide already. Returns the identity's audit log name.
   */
  async createForDeployedPortal(identity: {
    serviceAccount: string;
    namespace: string;
    writeRole: string;
  }): Promise<string> {
    await this.checkRolesExist([identity.writeRole], 'deploy/portal/rbac.yaml');
    await this.createNamespace();
    await this.bindWriteRole(identity.writeRole, [
      {
        kind: 'ServiceAccount',
        name: identity.serviceAccount,
        namespace: identity.namespace,
      },
    ]);
    await this.createPairObjects();
    return serviceAccountUsername(identity.namespace, identity.serviceAccount);
  }

  private async createNamespace() {
    await this.core.createNamespace({
      body: {
        metadata: {
          name: this.namespace,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    });
  }

  private async bindWriteRole(
    role: string,
    subjects: { kind: string; name: string; namespace: string }[],
  ) {
    await this.rbac.createNamespacedRoleBinding({
      namespace: this.namespace,
      body: {
        metadata: { name: 'rollouts-write' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: role,
        },
        subjects,
      },
    });
  }

  /** The two slots' Deployments and the Service that selects one of them. */
  private async createPairObjects() {
    const namespace = this.namespace;
    for (const slot of ['blue', 'green']) {
      await this.apps.createNamespacedDeployment({
        namespace,
        body: this.slotDeployment(slot),
      });
    }
    await this.core.createNamespacedService({
      namespace,
      body: {
        metadata: {
          name: 'demo-api',
          labels: { 'backstage.io/kubernetes-id': this.entityName },
          annotations: { [ENTITY_REF]: this.entityRef },
        },
        spec: {
          selector: { 'app.kubernetes.io/name': 'demo-api', [SLOT]: 'blue' },
          ports: [{ name: 'http', port: 80, targetPort: 'http' as any }],
        },
      },
    });
  }

  /** One slot of the pair: 2 pods on fake nodes (Running and Ready at once). */
  private slotDeployment(slot: string) {
    const labels = {
      'app.kubernetes.io/name': 'demo-api',
      [SLOT]: slot,
      'backstage.io/kubernetes-id': this.entityName,
    };
    return {
      metadata: {
        name: `demo-api-${slot}`,
        labels,
        annotations: { [ENTITY_REF]: this.entityRef },
      },
      spec: {
        replicas: 2,
        selector: {
          matchLabels: { 'app.kubernetes.io/name': 'demo-api', [SLOT]: slot },
        },
        template: {
          metadata: { labels },
          spec: {
            ...fakeNodePodSpec({
              name: 'api',
              image: `ghcr.io/example/fastapi-demo:${
                slot === 'blue' ? '1.0.0' : '2.0.0'
              }`,
              ports: [{ name: 'http', containerPort: 8000 }],
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { cpu: '100m', memory: '128Mi' },
              },
              readinessProbe: {
                httpGet: { path: '/ready', port: 'http' as any },
              },
            }),
            nodeSelector: FAKE_NODE_LABELS,
          },
        },
      },
    };
  }

  /**
   * Brings each slot to its 2 Ready pods. The Deployment controller makes the
   * ReplicaSet; the test then creates the pods on the cluster's own fake nodes
   * and writes the statuses the controllers would, as the scale benchmark does
   * (scaleWorkload.ts): next to such a benchmark the ReplicaSet controller can
   * be many minutes behind. When the controllers catch up, they find the pods
   * their ReplicaSets own and agree, or delete the surplus when they had
   * created pods of their own meanwhile; the pair is the Ready pods left.
   */
  async runPair(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    const namespace = this.namespace;
    const nodes = (
      await this.core.listNode({ labelSelector: FAKE_NODE_SELECTOR })
    ).items.map(n => n.metadata!.name!);
    if (nodes.length === 0) {
      throw new Error(`no fake node (${FAKE_NODE_SELECTOR}) in the cluster`);
    }
    const wanted: Array<{ selector: string; replicas: number }> = [];
    for (const slot of ['blue', 'green']) {
      const selector = `app.kubernetes.io/name=demo-api,${SLOT}=${slot}`;
      let rs: V1ReplicaSet | undefined;
      while (!rs) {
        rs = (
          await this.apps.listNamespacedReplicaSet({
            namespace,
            labelSelector: selector,
          })
        ).items[0];
        if (rs) break;
        if (Date.now() > deadline) {
          throw new Error(`no ReplicaSet of demo-api-${slot} in ${namespace}`);
        }
        await sleep(1000);
      }
      const owned = (
        await this.core.listNamespacedPod({
          namespace,
          labelSelector: selector,
        })
      ).items.map(p => p.metadata!.name!);
      wanted.push({ selector, replicas: rs.spec?.replicas ?? 0 });
      for (let i = owned.length; i < (rs.spec?.replicas ?? 0); i++) {
        await this.core.createNamespacedPod({
          namespace,
          body: {
            metadata: {
              name: `${rs.metadata!.name}-${i}`,
              labels: rs.spec!.template!.metadata!.labels,
              ownerReferences: [
                {
                  apiVersion: 'apps/v1',
                  kind: 'ReplicaSet',
                  name: rs.metadata!.name!,
                  uid: rs.metadata!.uid!,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            },
            spec: {
              ...rs.spec!.template!.spec!,
              nodeName: nodes[i % nodes.length],
            },
          },
        });
      }
      const ready = { replicas: 2, readyReplicas: 2, availableReplicas: 2 };
      await this.apps.patchNamespacedReplicaSetStatus(
        {
          namespace,
          name: rs.metadata!.name!,
          body: {
            status: {
              ...ready,
              fullyLabeledReplicas: 2,
              observedGeneration: rs.metadata!.generation,
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const deployment = await this.apps.readNamespacedDeployment({
        namespace,
        name: `demo-api-${slot}`,
      });
      await this.apps.patchNamespacedDeploymentStatus(
        {
          namespace,
          name: `demo-api-${slot}`,
          body: {
            status: {
              ...ready,
              updatedReplicas: 2,
              observedGeneration: deployment.metadata!.generation,
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    // The fake kubelet (KWOK) marks them Running and Ready. Which pods end up
    // the pair's is the ReplicaSet controller's call: when it catches up
    // after the list above and creates pods too, it deletes the surplus,
    // ours or its own (seen in CI: a pod made here was gone when read).
    for (const { selector, replicas } of wanted) {
      this.podNames.push(
        ...(await this.waitForReadyPods(selector, replicas, deadline)),
      );
    }
  }

  /**
   * The names of the pods matching `selector`, once exactly `replicas` of
   * them are left that are not being deleted, all Ready: while the controller
   * still has a surplus to delete, a Ready pod may be one it deletes next.
   */
  private async waitForReadyPods(
    selector: string,
    replicas: number,
    deadline: number,
  ): Promise<string[]> {
    for (;;) {
      const items = (
        await this.core.listNamespacedPod({
          namespace: this.namespace,
          labelSelector: selector,
        })
      ).items;
      const live = items.filter(p => !p.metadata?.deletionTimestamp);
      const ready = live.filter(p =>
        p.status?.conditions?.some(
          c => c.type === 'Ready' && c.status === 'True',
        ),
      );
      if (live.length === replicas && ready.length === replicas) {
        return ready.map(p => p.metadata!.name!).sort();
      }
      if (Date.now() > deadline) {
        const seen = items.map(
          p =>
            `${p.metadata!.name}: ${p.status?.phase ?? 'no phase'}${
              p.metadata?.deletionTimestamp ? ' (deleting)' : ''
            }`,
        );
        throw new Error(
          `${ready.length} of ${replicas} pods (${selector}) Ready and ${
            live.length
          } not being deleted in ${this.namespace}; pods: ${
            seen.join(', ') || 'none'
          }`,
        );
      }
      await sleep(500);
    }
  }

  /** The catalog entity of the pair, owned by the guest user who signs in. */
  catalogEntity() {
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: this.entityName,
        annotations: {
          'backstage.io/kubernetes-id': this.entityName,
          'backstage.io/kubernetes-namespace': this.namespace,
        },
      },
      spec: {
        type: 'service',
        owner: 'user:default/guest',
        lifecycle: 'production',
      },
    };
  }

  /** Deletes what create() made and waits for the namespace to be gone. */
  async delete(timeoutMs = 120_000) {
    await this.rbac
      .deleteClusterRoleBinding({ name: this.readBindingName })
      .catch(() => undefined);
    await this.core
      .deleteNamespace({ name: this.namespace })
      .catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const gone = await this.core
        .readNamespace({ name: this.namespace })
        .then(() => false)
        .catch(() => true);
      if (gone) return;
      await sleep(1000);
    }
    throw new Error(
      `namespace ${this.namespace} still exists after ${timeoutMs} ms`,
    );
  }
}
