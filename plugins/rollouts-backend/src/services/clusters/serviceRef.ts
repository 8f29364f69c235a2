import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import { InformerClusterRegistry } from './ClusterRegistry';
import { RolloutsClusterRegistry } from './types';

/**
 * The clusters of the rollouts plugin. The default implementation reads
 * `kubernetes.clusterLocatorMethods` and keeps informers per cluster; tests
 * replace it with an in-memory registry.
 *
 * @public
 */
export const rolloutsClusterRegistryServiceRef =
  createServiceRef<RolloutsClusterRegistry>({
    id: 'rollouts.cluster-registry',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: {
          config: coreServices.rootConfig,
          logger: coreServices.logger,
          lifecycle: coreServices.lifecycle,
        },
        factory({ config, logger, lifecycle }) {
          const namespaces = config.getOptionalStringArray(
            'rollouts.namespaces',
          );
          const registry = InformerClusterRegistry.fromConfig(config, logger, {
            namespaces,
          });
          lifecycle.addStartupHook(() => {
            // Not awaited: a cluster that is down must not hold up the backend.
            registry.start().catch(e => {
              logger.error(`rollouts: failed to start informers: ${e}`);
            });
          });
          lifecycle.addShutdownHook(() => registry.stop());
          return registry;
        },
      }),
  });
