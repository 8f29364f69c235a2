import { Entity } from '@backstage/catalog-model';
import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import {
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
} from '@internal/plugin-rollouts-common';
import { rolloutsApiRef, RolloutsClient } from './api';

/** Entities the plugin applies to: the same annotations as the Kubernetes plugin. */
export function hasKubernetesAnnotation(entity: Entity): boolean {
  const annotations = entity.metadata.annotations ?? {};
  return Boolean(
    annotations[KUBERNETES_ID_ANNOTATION] ||
      annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION],
  );
}

/** @public */
export const rolloutsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: rolloutsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new RolloutsClient({ discoveryApi, fetchApi }),
    }),
});

/** The "Rollouts" tab. @public */
export const rolloutsEntityContent = EntityContentBlueprint.make({
  params: {
    path: '/rollouts',
    title: 'Rollouts',
    group: 'deployment',
    filter: hasKubernetesAnnotation,
    loader: () =>
      import('./components/RolloutsContent').then(m => <m.RolloutsContent />),
  },
});

/** The compact overview card. @public */
export const rolloutsEntityCard = EntityCardBlueprint.make({
  params: {
    filter: hasKubernetesAnnotation,
    loader: () =>
      import('./components/RolloutsCard').then(m => <m.RolloutsCard />),
  },
});

/**
 * The rollouts frontend plugin: a "Rollouts" entity tab and overview card with
 * rollout status, probes, resources and blue-green traffic switching.
 *
 * @public
 */
export const rolloutsPlugin = createFrontendPlugin({
  pluginId: 'rollouts',
  title: 'Rollouts',
  info: { packageJson: () => import('../package.json') },
  extensions: [rolloutsApi, rolloutsEntityContent, rolloutsEntityCard],
});
