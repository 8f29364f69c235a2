/*
 * A standalone backend for trying the rollouts API against a cluster:
 *
 *   eval "$(platform/cluster.sh env)"   # or any cluster
 *   K8S_CLUSTER_URL=... K8S_CLUSTER_TOKEN=... K8S_CLUSTER_CA_DATA=... \
 *     yarn workspace @golden-path/plugin-rollouts-backend start
 *   curl localhost:7007/api/rollouts/entity/component/default/fastapi-demo/status
 *
 * Auth is mocked (every request is the mock user) and permissions allow all.
 * Clusters come from kubernetes.clusterLocatorMethods in app-config, as in the
 * real backend.
 */
import { createBackend } from '@backstage/backend-defaults';
import { mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';

const backend = createBackend();
backend.add(mockServices.auth.factory());
backend.add(mockServices.httpAuth.factory());
backend.add(
  catalogServiceMock.factory({
    entities: [
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: 'fastapi-demo',
          annotations: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
        },
        spec: {
          type: 'service',
          owner: 'user:default/mock',
          lifecycle: 'experimental',
        },
      },
    ],
  }),
);
backend.add(import('../src'));
backend.start();
