import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { rolloutsPermissions } from '@internal/plugin-rollouts-common';
import { createRouter } from './router';
import { ChangeNotifier } from './services/ChangeNotifier';
import { rolloutsClusterRegistryServiceRef } from './services/clusters/serviceRef';
import { RolloutsService } from './services/RolloutsService';
import { readRolloutsSettings, readSignalIntervalMs } from './settings';

/**
 * The rollouts backend plugin: rollout status, probes, quotas and blue-green
 * state of catalog entities from cached informers, plus audited, permissioned
 * traffic switch, rollback, restart and undo.
 *
 * @public
 */
export const rolloutsPlugin = createBackendPlugin({
  pluginId: 'rollouts',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
        signals: signalsServiceRef,
        clusters: rolloutsClusterRegistryServiceRef,
      },
      async init({
        httpRouter,
        httpAuth,
        logger,
        config,
        permissions,
        permissionsRegistry,
        auditor,
        lifecycle,
        catalog,
        signals,
        clusters,
      }) {
        permissionsRegistry.addPermissions(rolloutsPermissions);
        const service = new RolloutsService(
          clusters,
          readRolloutsSettings(config),
          logger,
        );
        const notifier = new ChangeNotifier({
          clusters,
          signals,
          logger,
          minIntervalMs: readSignalIntervalMs(config),
        });
        notifier.start();
        lifecycle.addShutdownHook(() => notifier.stop());
        httpRouter.use(
          await createRouter({
            httpAuth,
            permissions,
            auditor,
            catalog,
            logger,
            service,
            notifier,
          }),
        );
      },
    });
  },
});
