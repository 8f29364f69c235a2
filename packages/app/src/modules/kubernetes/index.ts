import {
  createFrontendModule,
  createTranslationMessages,
} from '@backstage/frontend-plugin-api';
import { TranslationBlueprint } from '@backstage/plugin-app-react';
import { kubernetesTranslationRef } from '@backstage/plugin-kubernetes/alpha';

/**
 * The Kubernetes tab's empty state also tells a portal without any cluster what to
 * configure: out of the box it only says that no resources were found.
 */
export const kubernetesEmptyStateMessages = createTranslationMessages({
  ref: kubernetesTranslationRef,
  full: false,
  messages: {
    'kubernetesContentPage.emptyState.description':
      'No resources on any known clusters for {{entityName}}. If no cluster is configured yet, set K8S_CLUSTER_URL, K8S_CLUSTER_TOKEN and K8S_CLUSTER_CA_DATA before `make start`, or run `make demo` for the local test cluster (README: "Pointing the portal at a cluster"). The entity needs the backstage.io/kubernetes-id annotation, and its objects the matching label.',
  },
});

export const kubernetesModule = createFrontendModule({
  pluginId: 'app',
  extensions: [
    TranslationBlueprint.make({
      name: 'kubernetes-empty-state',
      params: { resource: kubernetesEmptyStateMessages },
    }),
  ],
});
