/*
 * The whole authorization chain of a rollouts write and a status read, nothing mocked
 * in it: the rollouts plugin asks the real permission backend with the user's
 * credentials, the portal's policy answers with the conditional "owners only" decision,
 * and the real catalog evaluates it (IS_ENTITY_OWNER) on entities it read from a
 * catalog file. Only the cluster is in memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import {
  BackendFeature,
  coreServices,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { isPermission } from '@backstage/plugin-permission-common';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import permissionPlugin from '@backstage/plugin-permission-backend';
import rolloutsPlugin, {
  rolloutsClusterRegistryServiceRef,
} from '@golden-path/plugin-rollouts-backend';
import { ENTITY_REF_ANNOTATION } from '@golden-path/plugin-rollouts-common';
import {
  demoCluster,
  deployment,
  FakeRegistry,
  NAMESPACE,
} from '@golden-path/plugin-rollouts-backend/testUtils';
import {
  PortalPermissionPolicy,
  portalPermissionPolicyModule,
} from './portalPermissionPolicy';

const OWNER = 'user:default/owner';
const MEMBER = 'user:default/member';
const STRANGER = 'user:default/stranger';

/** fastapi-demo (the demo cluster's pair) is owned by a group, solo-service by a user. */
const CATALOG = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: owner }
spec: { memberOf: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: member }
spec: { memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: stranger }
spec: { memberOf: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: fastapi-demo
  annotations: { backstage.io/kubernetes-id: fastapi-demo }
spec: { type: service, lifecycle: production, owner: group:default/team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: solo-service
  annotations: { backstage.io/kubernetes-id: solo-service }
spec: { type: service, lifecycle: production, owner: user:default/owner }
`;

/**
 * Backstage's mock auth, except that a token a plugin sends on a user's behalf names
 * that plugin as the actor, as real tokens do. The permission backend refuses a
 * user's own request for a resource permission without a resourceRef, which the
 * catalog sends on the user's behalf for every read; the mock tokens carry no actor.
 * Backstage's own httpAuth uses it (the mock httpAuth has a mock auth of its own).
 */
const authWithActors = createServiceFactory({
  service: coreServices.auth,
  deps: { plugin: coreServices.pluginMetadata },
  factory: ({ plugin }) => {
    const auth = mockServices.auth({ pluginId: plugin.getId() });
    const authenticate = auth.authenticate.bind(auth);
    auth.authenticate = async (token, options) => {
      const credentials = await authenticate(token, options);
      const prefix = 'mock-service-token:';
      const { obo } = token.startsWith(prefix)
        ? JSON.parse(token.slice(prefix.length))
        : { obo: undefined };
      return obo
        ? mockCredentials.user(obo, { actor: { subject: 'plugin' } })
        : credentials;
    };
    return auth;
  },
});

/**
 * Who a signed-in user is, as the auth backend's sign-in resolvers put it in the
 * token by default: the user and the groups the catalog says it is a member of.
 * (Backstage's mock userInfo would give the user alone.)
 */
const userInfoFromCatalog = createServiceFactory({
  service: coreServices.userInfo,
  deps: { auth: coreServices.auth, discovery: coreServices.discovery },
  factory: ({ auth, discovery }) => ({
    async getUserInfo(credentials) {
      const { userEntityRef } = credentials.principal as {
        userEntityRef: string;
      };
      const { token } = await auth.getPluginRequestToken({
        onBehalfOf: await auth.getOwnServiceCredentials(),
        targetPluginId: 'catalog',
      });
      const [, name] = userEntityRef.split('/');
      const res = await fetch(
        `${await discovery.getBaseUrl(
          'catalog',
        )}/entities/by-name/user/default/${name}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      const user = res.ok ? await res.json() : { relations: [] };
      const groups = (user.relations as { type: string; targetRef: string }[])
        .filter(r => r.type === 'memberOf' && r.targetRef.startsWith('group:'))
        .map(r => r.targetRef);
      return { userEntityRef, ownershipEntityRefs: [userEntityRef, ...groups] };
    },
  }),
});

/** The demo cluster, plus a Deployment that belongs to solo-service. */
function cluster() {
  const fake = demoCluster();
  const solo = deployment('blue');
  solo.metadata = {
    ...solo.metadata,
    name: 'solo-api',
    uid: 'uid-solo',
    labels: { 'backstage.io/kubernetes-id': 'solo-service' },
    annotations: {
      ...solo.metadata!.annotations,
      [ENTITY_REF_ANNOTATION]: 'component:default/solo-service',
    },
  };
  fake.put('deployments', solo);
  return fake;
}

/**
 * The portal policy, except that a Component is visible in the catalog to its
 * owners only (as some portals restrict it).
 */
const ownersReadComponentsPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'owners-read-components',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        const portal = new PortalPermissionPolicy({
          kubernetesProxyGroups: [],
          kubernetesApplyGroups: [],
        });
        policy.setPolicy({
          async handle(request, user) {
            if (
              !isPermission(request.permission, catalogEntityReadPermission)
            ) {
              return portal.handle(request, user);
            }
            return createCatalogConditionalDecision(request.permission, {
              anyOf: [
                catalogConditions.isEntityKind({
                  kinds: ['User', 'Group', 'Location'],
                }),
                catalogConditions.isEntityOwner({
                  claims: user?.info.ownershipEntityRefs ?? [],
                }),
              ],
            });
          },
        });
      },
    });
  },
});

describe('rollouts, authorized by the portal policy and the catalog', () => {
  jest.setTimeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chain-catalog-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The plugin, the permission backend with `policy` and the catalog reading
   * CATALOG, once the catalog has processed it.
   */
  async function startChain(policy: BackendFeature) {
    const catalogFile = path.join(dir, 'catalog.yaml');
    fs.writeFileSync(catalogFile, CATALOG);
    const fake = cluster();
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        permissionPlugin,
        policy,
        rolloutsPlugin,
        userInfoFromCatalog,
        authWithActors,
        httpAuthServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
            catalog: {
              rules: [{ allow: ['Component', 'User', 'Group', 'Location'] }],
              locations: [{ type: 'file', target: catalogFile }],
            },
          },
        }),
        createServiceFactory({
          service: rolloutsClusterRegistryServiceRef,
          deps: {},
          factory: () => new FakeRegistry([fake]),
        }),
      ],
    });
    const api = `http://localhost:${server.port()}/api`;

    // The catalog processes its file in the background: wait for the last entity.
    for (let ready = false; !ready; ) {
      const res = await fetch(
        `${api}/catalog/entities/by-name/user/default/member`,
        { headers: { Authorization: mockCredentials.service.header() } },
      );
      const member = res.ok ? await res.json() : undefined;
      ready = Boolean(member?.relations?.length);
      if (!ready) await new Promise(r => setTimeout(r, 200));
    }
    return { api, fake };
  }

  const as = (user: string) => ({
    Authorization: mockCredentials.user.header(user),
    'Content-Type': 'application/json',
  });

  it('lets the owning user and the owning group’s member restart, and nobody else', async () => {
    const { api, fake } = await startChain(portalPermissionPolicyModule);

    const restart = async (user: string, entity: string, target: string) => {
      const res = await fetch(
        `${api}/rollouts/entity/component/default/${entity}/deployments/restart`,
        {
          method: 'POST',
          headers: as(user),
          body: JSON.stringify({
            cluster: 'local',
            namespace: NAMESPACE,
            deployment: target,
          }),
        },
      );
      return res.status;
    };
    const outcomes: Record<string, number> = {};
    for (const user of [OWNER, MEMBER, STRANGER]) {
      outcomes[`${user} on fastapi-demo`] = await restart(
        user,
        'fastapi-demo',
        'demo-api-blue',
      );
      outcomes[`${user} on solo-service`] = await restart(
        user,
        'solo-service',
        'solo-api',
      );
    }

    expect(outcomes).toEqual({
      [`${OWNER} on fastapi-demo`]: 403,
      [`${OWNER} on solo-service`]: 200,
      [`${MEMBER} on fastapi-demo`]: 200,
      [`${MEMBER} on solo-service`]: 403,
      [`${STRANGER} on fastapi-demo`]: 403,
      [`${STRANGER} on solo-service`]: 403,
    });
    // Only the two allowed restarts reached the cluster.
    expect(
      fake.apiCalls
        .filter(c => c.method.startsWith('patch'))
        .map(c => c.args.slice(0, 2)),
    ).toEqual([
      [NAMESPACE, 'solo-api'],
      [NAMESPACE, 'demo-api-blue'],
    ]);
  });

  it('shows the status only to those the catalog shows the entity to, with or without the entity cache', async () => {
    const { api } = await startChain(ownersReadComponentsPolicy);
    const status = async (user: string, entity: string, fresh: boolean) => {
      const res = await fetch(
        `${api}/rollouts/entity/component/default/${entity}/status`,
        {
          headers: {
            ...as(user),
            ...(fresh && { 'Cache-Control': 'no-cache' }),
          },
        },
      );
      return res.status;
    };
    const outcomes: string[] = [];
    // The owner's read fills the entity cache first; the others must not get
    // it from there.
    for (const user of [OWNER, MEMBER, STRANGER]) {
      for (const fresh of [false, true]) {
        outcomes.push(
          `${user} ${fresh ? 'fresh' : 'cached'}: ${await status(
            user,
            'solo-service',
            fresh,
          )}`,
        );
      }
    }
    outcomes.push(
      `${MEMBER} on fastapi-demo: ${await status(
        MEMBER,
        'fastapi-demo',
        false,
      )}`,
      `${OWNER} on an unknown entity: ${await status(OWNER, 'nope', false)}`,
    );
    expect(outcomes).toEqual([
      `${OWNER} cached: 200`,
      `${OWNER} fresh: 200`,
      `${MEMBER} cached: 404`,
      `${MEMBER} fresh: 404`,
      `${STRANGER} cached: 404`,
      `${STRANGER} fresh: 404`,
      `${MEMBER} on fastapi-demo: 200`,
      `${OWNER} on an unknown entity: 404`,
    ]);
  });
});
