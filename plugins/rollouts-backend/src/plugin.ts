import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { rolloutsPermissions } from '@golden-path/plugin-rollouts-common';
import { createRouter, WRITE_ROUTE_PREFIXES } from './router';
import { ChangeNotifier } from './services/ChangeNotifier';
import { StatusEntityReader } from './services/entityLookup/StatusEntityReader';
import { rolloutsClusterRegistryServiceRef } from './services/clusters/serviceRef';
import {
  SCHEDULED_SCALE_DOWN_TASK_ID,
  ScheduledScaleDownTask,
} from './services/scaleDown/ScheduledScaleDownTask';
import { StatusAnswerCache } from './services/status/StatusAnswerCache';
import { StatusService } from './services/status/StatusService';
import { restartDeploymentCommand } from './services/writes/restartDeployment';
import {
  rollbackTrafficCommand,
  switchTrafficCommand,
  trafficPreflightCommand,
} from './services/writes/switchTraffic';
import { undoDeploymentCommand } from './services/writes/undoDeployment';
import { WriteRunner } from './services/writes/WriteRunner';
import {
  readEntityCacheMs,
  readRolloutsSettings,
  readSignalIntervalMs,
} from './settings';

/**
 * The rollouts backend plugin: rollout status, probes, quotas and blue-green
 * state of catalog entities from cached informers, plus audited, permissioned
 * traffic switch (with the checks of the blue-green template's switch
 * script), rollback, restart and undo, bound to objects the cluster says
 * belong to the entity, and the scheduled scale-down of the slot a switch
 * left running.
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
        auth: coreServices.auth,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
        scheduler: coreServices.scheduler,
        catalog: catalogServiceRef,
        signals: signalsServiceRef,
        clusters: rolloutsClusterRegistryServiceRef,
      },
      async init({
        httpRouter,
        httpAuth,
        auth,
        logger,
        config,
        permissions,
        permissionsRegistry,
        auditor,
        lifecycle,
        scheduler,
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
        const scaleDown = new ScheduledScaleDownTask({
          clusters,
          auditor,
          logger,
          slotLabel: settings.slotLabel,
        });
        await scheduler.scheduleTask({
          id: SCHEDULED_SCALE_DOWN_TASK_ID,
          frequency: { seconds: settings.scaleDownCheckIntervalSeconds },
          timeout: { minutes: 2 },
          // The caches fill first; a run before that finds nothing due.
          initialDelay: { seconds: 10 },
          fn: async () => {
            await scaleDown.run();
          },
        });
        // Writes check credentials themselves, after the audit event is
        // created, so that attempts without valid credentials are audited too.
        for (const path of WRITE_ROUTE_PREFIXES) {
          httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' });
        }
        const status = new StatusService(clusters, settings);
        const answers = new StatusAnswerCache(status, clusters);
        lifecycle.addShutdownHook(() => answers.stop());
        httpRouter.use(
          await createRouter({
            httpAuth,
            entities: new StatusEntityReader({
              auth,
              permissions,
              catalog,
              entityCacheMs: readEntityCacheMs(config),
            }),
            status,
            answers,
            writes: new WriteRunner({
              httpAuth,
              auditor,
              permissions,
              catalog,
              clusters,
              logger,
            }),
            commands: [
              trafficPreflightCommand(settings),
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
