/*
 * deploy/portal (the portal's production manifests) works for the rollouts
 * plugin: its ServiceAccounts, RBAC and app config, applied as shipped to the
 * local cluster, give a cluster in state `ok` with every kind readable;
 * writes succeed only in a namespace that adds the README's RoleBinding; the
 * Kubernetes plugin's identity (the pod's own) can write nowhere.
 */
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import {
  ENTITY_REF_ANNOTATION,
  KubeDeployment,
  pinnedPatch,
  planRestart,
} from '@golden-path/plugin-rollouts-common';
import {
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import yaml from 'yaml';
import { InformerClusterRegistry } from '../services/clusters/ClusterRegistry';
import { KubeWriter } from '../services/clusters/KubeWriter';
import { ClusterHealth } from '../services/clusters/types';
import {
  AdminClients,
  adminClients,
  createNamespace,
  describeWithCluster,
  eventually,
  kubeConfigWithToken,
  podTemplate,
  serviceAccountToken,
} from './fixture';

const PORTAL = path.resolve(__dirname, '../../../../deploy/portal');
const PORTAL_NS = 'golden-path-portal';

const readObjects = (file: string): KubernetesObject[] =>
  yaml
    .parseAllDocuments(fs.readFileSync(path.join(PORTAL, file), 'utf8'))
    .map(d => d.toJSON())
    .filter(Boolean);

/** The RoleBinding the README tells an application namespace to add. */
function readmeRoleBinding(namespace: string): KubernetesObject {
  const readme = fs.readFileSync(path.join(PORTAL, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map(m =>
    yaml.parse(m[1]),
  );
  const binding = blocks.find(b => b?.kind === 'RoleBinding');
  if (!binding) throw new Error('deploy/portal/README.md shows no RoleBinding');
  return { ...binding, metadata: { ...binding.metadata, namespace } };
}

describeWithCluster('deploy/portal RBAC and config, as shipped', () => {
  const suffix = randomBytes(3).toString('hex');
  const optedIn = `portal-rbac-in-${suffix}`;
  const notOptedIn = `portal-rbac-out-${suffix}`;
  const entityRef = `component:default/portal-rbac-${suffix}`;
  let admin: AdminClients;
  let objects: KubernetesObjectApi;
  const applied: KubernetesObject[] = [];
  let namespaceExisted = false;
  let registry: InformerClusterRegistry;
  let dir: string;
  let kubernetesPluginToken: string;

  async function apply(obj: KubernetesObject) {
    await objects.patch(
      obj,
      undefined,
      undefined,
      'deploy-portal-rbac-test',
      true,
      PatchStrategy.ServerSideApply,
    );
    applied.push(obj);
  }

  async function deploymentIn(namespace: string) {
    await createNamespace(admin, namespace);
    const labels = { app: 'svc', 'backstage.io/kubernetes-id': 'svc' };
    await admin.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: {
          name: 'svc',
          labels,
          annotations: { [ENTITY_REF_ANNOTATION]: entityRef },
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: podTemplate(labels, 'ghcr.io/example/svc:1.0.0') as any,
        },
      },
    });
  }

  /** A pinned restart, as the plugin's restart command sends it. */
  async function restart(writer: KubeWriter, namespace: string) {
    const d: KubeDeployment = await writer.getDeployment(namespace, 'svc');
    const plan = planRestart(d);
    if (!plan.allowed) throw new Error(plan.reason);
    return writer.patchDeployment(
      namespace,
      'svc',
      pinnedPatch(d, { annotationValue: entityRef }, plan.patch),
    );
  }

  beforeAll(async () => {
    admin = adminClients();
    objects = KubernetesObjectApi.makeApiClient(admin.kc);
    namespaceExisted = await admin.core
      .readNamespace({ name: PORTAL_NS })
      .then(() => true)
      .catch(() => false);
    for (const file of ['namespace.yaml', 'serviceaccount.yaml', 'rbac.yaml']) {
      for (const obj of readObjects(file)) await apply(obj);
    }
    const rolloutsToken = await eventually(
      async () => {
        const secret = await admin.core.readNamespacedSecret({
          name: 'portal-rollouts-token',
          namespace: PORTAL_NS,
        });
        const token = secret.data?.token;
        if (!token) throw new Error('token not filled yet');
        return Buffer.from(token, 'base64').toString('utf8');
      },
      30_000,
      'the token controller to fill portal-rollouts-token',
    );
    kubernetesPluginToken = await serviceAccountToken(
      admin,
      PORTAL_NS,
      'portal',
    );

    // The files the pod would have: the in-cluster token and CA, and the
    // mounted rollouts token.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-rbac-'));
    const cluster = admin.kc.getCurrentCluster()!;
    const files = {
      ca: path.join(dir, 'ca.crt'),
      podToken: path.join(dir, 'token'),
      rolloutsToken: path.join(dir, 'rollouts-token'),
    };
    fs.writeFileSync(files.ca, Buffer.from(cluster.caData!, 'base64'));
    fs.writeFileSync(files.podToken, kubernetesPluginToken);
    fs.writeFileSync(files.rolloutsToken, rolloutsToken);

    // The shipped app config, pointed at this cluster's address and files.
    const configMap = readObjects('configmap.yaml')[0] as any;
    const appConfig = yaml.parse(configMap.data['app-config.production.yaml']);
    const shipped = appConfig.kubernetes.clusterLocatorMethods[0].clusters[0];
    // The paths the shipped config reads are the ones the pod mounts (the
    // manifest checks assert the mounts); here they point at local copies.
    if (
      shipped.caFile !== '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'
    ) {
      throw new Error(`unexpected caFile in configmap.yaml: ${shipped.caFile}`);
    }
    shipped.url = cluster.server;
    shipped.caFile = files.ca;
    if (
      appConfig.rollouts.clusters[0].serviceAccountTokenFile !==
      '/var/run/secrets/rollouts/token'
    ) {
      throw new Error('unexpected rollouts token file in configmap.yaml');
    }
    appConfig.rollouts.clusters[0].serviceAccountTokenFile =
      files.rolloutsToken;
    registry = InformerClusterRegistry.fromConfig(
      new ConfigReader({
        kubernetes: appConfig.kubernetes,
        rollouts: appConfig.rollouts,
      }),
      mockServices.logger.mock(),
      {},
      files.podToken,
    );
    await registry.start();
    await deploymentIn(optedIn);
    await apply(readmeRoleBinding(optedIn));
    await deploymentIn(notOptedIn);
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    for (const ns of [optedIn, notOptedIn]) {
      await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    for (const obj of applied.reverse()) {
      if (obj.kind === 'Namespace' && namespaceExisted) continue;
      if (obj.metadata?.namespace === optedIn) continue;
      await objects?.delete(obj).catch(() => undefined);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('lets the rollouts plugin read every kind it caches: state ok, nothing unavailable', async () => {
    // Flux's Kustomizations exist only where Flux is installed (not-installed
    // otherwise); the RBAC must never make them forbidden.
    const fluxOptional = (health: ClusterHealth) => ({
      ...health,
      unavailable: health.unavailable.filter(
        u => !(u.kind === 'kustomizations' && u.state === 'not-installed'),
      ),
    });
    await eventually(
      () =>
        expect(fluxOptional(registry.get('in-cluster')!.health())).toEqual({
          state: 'ok',
          unavailable: [],
        }),
      30_000,
      'the cluster to sync with the shipped RBAC',
    );
    expect(registry.get('in-cluster')!.writeAccess()).toEqual({
      mode: 'plugin',
    });
  }, 60_000);

  it('writes only where a namespace added the RoleBinding', async () => {
    const writer = registry.get('in-cluster')!.writer() as KubeWriter;
    const done = await restart(writer, optedIn);
    expect(
      done.spec?.template?.metadata?.annotations?.[
        'kubectl.kubernetes.io/restartedAt'
      ],
    ).toEqual(expect.any(String));
    await expect(restart(writer, notOptedIn)).rejects.toMatchObject({
      code: 403,
    });
  }, 60_000);

  it("never writes with the Kubernetes plugin's identity (the pod's own token)", async () => {
    const kubernetesPlugin = new KubeWriter(
      kubeConfigWithToken(admin, 'portal', kubernetesPluginToken),
    );
    // It can read what the Kubernetes tab shows...
    await expect(
      kubernetesPlugin.getDeployment(optedIn, 'svc'),
    ).resolves.toMatchObject({
      metadata: { name: 'svc' },
    });
    // ...and patch nothing, not even where the rollouts plugin may.
    for (const ns of [optedIn, notOptedIn]) {
      await expect(
        kubernetesPlugin.patchDeployment(ns, 'svc', [
          { op: 'add', path: '/metadata/labels/x', value: 'y' },
        ]),
      ).rejects.toMatchObject({ code: 403 });
    }
  }, 60_000);
});
