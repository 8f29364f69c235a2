import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { ScmIntegrations } from '@backstage/integration';
import { createFetchTemplateAction } from '@backstage/plugin-scaffolder-backend';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createFetchSkeletonAction } from './actions/fetchSkeleton';

/**
 * Registers the Golden Path Portal's scaffolder actions.
 *
 * Config: `goldenPath.skeletonsDir` (default `../../fastapi-skeletons`, relative to the
 * backend's working directory, like the catalog's file locations).
 */
export const scaffolderModuleGoldenPath = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'golden-path',
  register({ registerInit }) {
    registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        reader: coreServices.urlReader,
      },
      async init({ scaffolder, config, reader }) {
        const skeletonsDir = path.resolve(
          config.getOptionalString('goldenPath.skeletonsDir') ??
            '../../fastapi-skeletons',
        );
        const fetchTemplate = createFetchTemplateAction({
          reader,
          integrations: ScmIntegrations.fromConfig(config),
        });
        scaffolder.addActions(
          createFetchSkeletonAction({ skeletonsDir, fetchTemplate }),
        );
      },
    });
  },
});
