/*
 * The Golden Path Portal backend (new backend system).
 */
import { createBackend } from '@backstage/backend-defaults';
import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';
import {
  coreServices,
  createBackendFeatureLoader,
} from '@backstage/backend-plugin-api';
import {
  closeConnectionsWhenDraining,
  onBeforeShutdown,
} from './closeConnectionsWhenDraining';
import { reusingPluginTokenHandlerFactory } from './auth/ReusingPluginTokenHandler';
import { cutLingeringConnections } from './cutLingeringConnections';
import { exitOnStartupFailure } from './exitOnStartupFailure';
import { portalPermissionPolicyModule } from './modules/portalPermissionPolicy';
import { postgresStartLock, startOneAtATime } from './startOneAtATime';

const backend = createBackend();

// Clients reconnect (to a ready pod) while a stopping replica drains: see
// closeConnectionsWhenDraining and backend.lifecycle.serverShutdownDelay. Long
// polls do not hold a stopping replica past its grace period: see
// cutLingeringConnections.
backend.add(
  rootHttpRouterServiceFactory({
    configure: ({ app, server, lifecycle, logger, applyDefaults }) => {
      const drain = closeConnectionsWhenDraining();
      if (!onBeforeShutdown(lifecycle, drain.startDraining)) {
        logger.warn('no before-shutdown hook: connections are not drained');
      }
      lifecycle.addShutdownHook(cutLingeringConnections(server, { logger }));
      app.use(drain.middleware);
      applyDefaults();
    },
  }),
);

// Plugin-to-plugin tokens (a permission check per request, for one) are signed
// and verified once per token, not once per request: see ReusingPluginTokenHandler.
backend.add(reusingPluginTokenHandlerFactory);

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

// Auth: guest locally; see README "Authentication" for GitHub sign-in.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-auth-backend-module-github-provider'));

// Catalog
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

// Scaffolder: GitHub publishing and the golden-path skeleton action
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend-module-github'));
// publish:gitea, for the local Git server `make start` runs (platform/gitea).
backend.add(import('@backstage/plugin-scaffolder-backend-module-gitea'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);
backend.add(
  import('@golden-path/plugin-scaffolder-backend-module-golden-path'),
);

// TechDocs (local builder, local generator)
backend.add(import('@backstage/plugin-techdocs-backend'));

// Permissions: entity owners may change their workloads, everyone may read
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(portalPermissionPolicyModule);

// Search: Postgres engine when the database is Postgres, the built-in Lunr otherwise
backend.add(import('@backstage/plugin-search-backend'));
backend.add(
  createBackendFeatureLoader({
    deps: { config: coreServices.rootConfig },
    *loader({ config }) {
      if (config.getOptionalString('backend.database.client') === 'pg') {
        yield import('@backstage/plugin-search-backend-module-pg');
      }
    },
  }),
);
backend.add(import('@backstage/plugin-search-backend-module-catalog'));
backend.add(import('@backstage/plugin-search-backend-module-techdocs'));

// Kubernetes: Backstage's tab, and the rollouts plugin (status, probes, quotas,
// guarded blue-green switch) reading the same cluster config
backend.add(import('@backstage/plugin-kubernetes-backend'));
backend.add(import('@golden-path/plugin-rollouts-backend'));

// Events bus (used by catalog and signals to fan out across backend instances)
backend.add(import('@backstage/plugin-events-backend'));

// User settings, notifications and signals
backend.add(import('@backstage/plugin-user-settings-backend'));
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

// Replicas start (and migrate) one at a time; a failed start ends the process so
// that Kubernetes restarts it (see startOneAtATime and exitOnStartupFailure).
exitOnStartupFailure(() =>
  startOneAtATime(() => backend.start(), postgresStartLock()),
);
