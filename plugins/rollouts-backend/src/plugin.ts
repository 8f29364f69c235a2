import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { rolloutsPermissions } from '@internal/plugin-rollouts-common';
import { createRouter, WRITE_ROUTE_PREFIXES } from './router';
import { ChangeNotifier } from './services/ChangeNotifier';
import { rolloutsClusterRegistryServiceRef } from './services/clusters/serviceRef';
import { StatusService } from './services/status/StatusService';
import { restartDeploymentCommand } from './services/writes/restartDeployment';
import {
  rollbackTrafficCommand,
  switchTrafficCommand,
} from './services/writes/switchTraffic';
import { undoDeploymentCommand } from './services/writes/undoDeployment';
import { WriteRunner } from './services/writes/WriteRunner';
import { readRolloutsSettings, readSignalIntervalMs } from './settings';

/**
 * The rollouts backend plugin: rollout status, probes, quotas and blue-green
 * state of catalog entities from cached informers, plus audited, permissioned
 * traffic switch, rollback, restart and undo, bound to objects the cluster
 * says belong to the entity.
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
        const settings = readRolloutsSettings(config);
        const notifier = new ChangeNotifier({
          clusters,
          signals,
          logger,
          minIntervalMs: readSignalIntervalMs(config),
          keepaliveIntervalMs: settings.keepaliveIntervalMs,
        });
        notifier.start();
        lifecycle.addShutdownHook(() => notifier.stop());
        // Writes check credentials themselves, after the audit event is
        // created, so that attempts without valid credentials are audited too.
        for (const path of WRITE_ROUTE_PREFIXES) {
          httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' });
        }
        httpRouter.use(
          await createRouter({
            httpAuth,
            permissions,
            catalog,
            status: new StatusService(clusters, settings),
            writes: new WriteRunner({
              httpAuth,
              auditor,
              permissions,
              catalog,
              clusters,
              logger,
            }),
            commands: [
              switchTrafficCommand(settings),
              rollbackTrafficCommand(settings),
              restartDeploymentCommand,
              undoDeploymentCommand,
            ],
            notifier,
          }),
        );
      },
    });
  },
});
