import fs from 'node:fs';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import {
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  V1ClusterRole,
} from '@kubernetes/client-node';
import yaml from 'yaml';
import { ClusterConnection } from '../kubernetes/settings';

const RBAC_FILE = resolvePackagePath(
  '@golden-path/plugin-scaffolder-backend-module-golden-path',
  'rbac/golden-path-scaffolder.yaml',
);

/**
 * The scaffolder actions' documented identity on a real cluster, for the integration
 * tests: a throw-away ServiceAccount `golden-path-scaffolder` in `namespace` (created
 * here), bound to a copy (named `name`) of the ClusterRole in
 * rbac/golden-path-scaffolder.yaml and to the given Roles (`[namespace, role]`, e.g. the
 * flux-system Role of platform/flux/manifests.yaml). Returns the connection the actions
 * use (a one-hour token) and what removes it all again.
 */
export async function createScaffolderIdentity(options: {
  kc: KubeConfig;
  name: string;
  namespace: string;
  roles?: [namespace: string, role: string][];
}): Promise<{ connection: ClusterConnection; remove: () => Promise<void> }> {
  const { kc, name, namespace, roles = [] } = options;
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const documented = yaml
    .parseAllDocuments(fs.readFileSync(RBAC_FILE, 'utf8'))
    .map(d => d.toJS())
    .find(o => o?.kind === 'ClusterRole') as V1ClusterRole;
  const subject = {
    kind: 'ServiceAccount',
    name: 'golden-path-scaffolder',
    namespace,
  };
  const roleRef = (kind: string, role: string) => ({
    apiGroup: 'rbac.authorization.k8s.io',
    kind,
    name: role,
  });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: subject.name } },
  });
  await rbac.createClusterRole({
    body: { metadata: { name }, rules: documented.rules },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: roleRef('ClusterRole', name),
      subjects: [subject],
    },
  });
  for (const [where, role] of roles) {
    await rbac.createNamespacedRoleBinding({
      namespace: where,
      body: {
        metadata: { name },
        roleRef: roleRef('Role', role),
        subjects: [subject],
      },
    });
  }
  const token = await core.createNamespacedServiceAccountToken({
    name: subject.name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kc.getCurrentCluster()!;
  return {
    connection: {
      url: cluster.server,
      caData: cluster.caData,
      caFile: cluster.caFile,
      skipTLSVerify: cluster.skipTLSVerify ?? false,
      serviceAccountToken: token.status!.token,
    },
    remove: async () => {
      await Promise.allSettled([
        core.deleteNamespace({ name: namespace }),
        rbac.deleteClusterRoleBinding({ name }),
        rbac.deleteClusterRole({ name }),
        ...roles.map(([where]) =>
          rbac.deleteNamespacedRoleBinding({ name, namespace: where }),
        ),
      ]);
    },
  };
}
