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
} from '@golden-path/plugin-rollouts-common';
import { z } from 'zod/v4';
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

/**
 * The "Rollouts" tab. Its config (`app.extensions`, key
 * `entity-content:rollouts`) takes `pollIntervalSeconds`: how often the tab
 * reloads when live updates are not available (default 30).
 *
 * @public
 */
export const rolloutsEntityContent = EntityContentBlueprint.makeWithOverrides({
  configSchema: {
    pollIntervalSeconds: z.number().min(5).max(3600).optional(),
  },
  factory(originalFactory, { config }) {
    const pollMs = (config.pollIntervalSeconds ?? 30) * 1000;
    return originalFactory({
      path: '/rollouts',
      title: 'Rollouts',
      group: 'deployment',
      filter: hasKubernetesAnnotation,
      loader: () =>
        import('./components/RolloutsContent').then(m => (
          <m.RolloutsContent pollMs={pollMs} />
        )),
    });
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
