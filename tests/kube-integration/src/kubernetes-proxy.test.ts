/*
 * Nobody writes through the Kubernetes plugin's proxy (/api/kubernetes/proxy):
 * the portal policy keeps the proxy to the configured groups, and the identity
 * the Kubernetes plugin reaches the cluster with is read-only, so even an
 * allowed user's PATCH is refused by the cluster. Runs against the real API
 * server (KUBECONFIG) and counts writes in its audit log (KUBE_AUDIT_LOG).
 *
 * It lives here rather than in packages/backend because the Kubernetes
 * backend loads the ESM-only @kubernetes/client-node with a dynamic import,
 * which this suite's SWC transform turns into require() (Backstage's package
 * test runner leaves node_modules' CommonJS untouched, and then Jest refuses
 * the import).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import kubernetesPlugin from '@backstage/plugin-kubernetes-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import {
  ApiServerAuditLog,
  WRITE_VERBS,
} from '@golden-path/plugin-rollouts-backend/testUtils';
import {
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import yaml from 'yaml';
import { portalPermissionPolicyModule } from '../../../packages/backend/src/modules/portalPermissionPolicy';

const audit = ApiServerAuditLog.fromEnv();

const ADMIN = 'user:default/root';
const STRANGER = 'user:default/stranger';
const PLATFORM_TEAM = 'group:default/platform-team';

/** The Kubernetes plugin's ClusterRole as deploy/demo ships it. */
function shippedReadRules() {
  const file = path.resolve(
    __dirname,
    '../../../deploy/demo/50-portal-rbac.yaml',
  );
  const role = yaml
    .parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map(d => d.toJSON())
    .find(
      o =>
        o?.kind === 'ClusterRole' &&
        o.metadata.name === 'backstage-portal-read',
    );
  if (!role) throw new Error(`no ClusterRole backstage-portal-read in ${file}`);
  return role.rules;
}

describe('the Kubernetes plugin proxy cannot be used to write', () => {
  const ns = `proxy-it-${randomBytes(3).toString('hex')}`;
  const clusterRole = `${ns}-kubernetes-read`;
  const username = `system:serviceaccount:${ns}:kubernetes-plugin`;
  let core: CoreV1Api;
  let rbac: RbacAuthorizationV1Api;
  let server: any;

  const serviceRv = async () =>
    (await core.readNamespacedService({ name: 'target', namespace: ns }))
      .metadata!.resourceVersion;
  const patchThroughProxy = (user: string) =>
    request(server)
      .patch(`/api/kubernetes/proxy/api/v1/namespaces/${ns}/services/target`)
      .set('Authorization', mockCredentials.user.header(user))
      .set('Backstage-Kubernetes-Cluster', 'local')
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ spec: { selector: { app: 'attacker' } } }));
  /** Requests of the Kubernetes plugin's identity since the mark. */
  const requestsSince = async (mark: number) =>
    (await audit!.requestsSince(mark, { settleMs: 1000 }))
      .filter(r => r.username === username)
      .map(r => `${r.verb} ${r.resource} ${r.code}`);

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    core = kc.makeApiClient(CoreV1Api);
    rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'target' },
        spec: { selector: { app: 'target' }, ports: [{ port: 80 }] },
      },
    });
    await core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: 'kubernetes-plugin' } },
    });
    await rbac.createClusterRole({
      body: { metadata: { name: clusterRole }, rules: shippedReadRules() },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: clusterRole },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: clusterRole,
        },
        subjects: [
          {
            kind: 'ServiceAccount',
            name: 'kubernetes-plugin',
            namespace: ns,
          },
        ],
      },
    });
    const token = await core.createNamespacedServiceAccountToken({
      name: 'kubernetes-plugin',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = kc.getCurrentCluster()!;
    ({ server } = await startTestBackend({
      features: [
        kubernetesPlugin,
        permissionPlugin,
        portalPermissionPolicyModule,
        catalogServiceMock.factory(),
        mockServices.userInfo.mock({
          getUserInfo: async (credentials: any) => {
            const user = credentials.principal.userEntityRef;
            return {
              userEntityRef: user,
              ownershipEntityRefs:
                user === ADMIN ? [user, PLATFORM_TEAM] : [user],
            };
          },
        }).factory,
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
            portal: { kubernetesProxy: { allowedGroups: [PLATFORM_TEAM] } },
            kubernetes: {
              serviceLocatorMethod: { type: 'multiTenant' },
              clusterLocatorMethods: [
                {
                  type: 'config',
                  clusters: [
                    {
                      name: 'local',
                      url: cluster.server,
                      authProvider: 'serviceAccount',
                      serviceAccountToken: token.status!.token,
                      caData: cluster.caData,
                      skipMetricsLookup: true,
                    },
                  ],
                },
              ],
            },
          },
        }),
      ],
    }));
  }, 120_000);

  afterAll(async () => {
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await rbac
      ?.deleteClusterRoleBinding({ name: clusterRole })
      .catch(() => undefined);
    await rbac?.deleteClusterRole({ name: clusterRole }).catch(() => undefined);
  }, 60_000);

  it('refuses a user outside the allowed groups with 403 before anything reaches the cluster', async () => {
    const before = await serviceRv();
    const mark = audit?.mark();
    const res = await patchThroughProxy(STRANGER);
    expect(res.status).toBe(403);
    if (audit) {
      // eslint-disable-next-line jest/no-conditional-expect -- only clusters with an audit log can count
      expect(await requestsSince(mark!)).toEqual([]);
    }
    expect(await serviceRv()).toBe(before);
  }, 60_000);

  it("forwards an allowed user's reads, and the cluster refuses the same user's PATCH: zero writes", async () => {
    const before = await serviceRv();
    const mark = audit?.mark();
    // Positive control: the proxy works for this user, and the audit log sees it.
    const read = await request(server)
      .get(`/api/kubernetes/proxy/api/v1/namespaces/${ns}/services/target`)
      .set('Authorization', mockCredentials.user.header(ADMIN))
      .set('Backstage-Kubernetes-Cluster', 'local');
    expect({ status: read.status, text: read.text }).toMatchObject({
      status: 200,
    });
    expect(read.body.metadata.name).toBe('target');
    const res = await patchThroughProxy(ADMIN);
    expect(res.status).toBe(403);
    if (audit) {
      const requests = await requestsSince(mark!);
      /* eslint-disable jest/no-conditional-expect -- only clusters with an audit log can count */
      expect(requests).toEqual(['get services 200', 'patch services 403']);
      expect(
        requests.filter(
          r => WRITE_VERBS.has(r.split(' ')[0]) && !r.endsWith(' 403'),
        ),
      ).toEqual([]);
      /* eslint-enable jest/no-conditional-expect */
    }
    expect(await serviceRv()).toBe(before);
  }, 60_000);
});
