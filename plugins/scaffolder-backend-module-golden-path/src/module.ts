import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  DefaultGithubCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { createFetchTemplateAction } from '@backstage/plugin-scaffolder-backend';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createFetchSkeletonAction } from './actions/fetchSkeleton';
import { createPublishPreflightAction } from './actions/publishPreflight';
import { createPublishRollbackAction } from './actions/publishRollback';

/**
 * Registers the Golden Path Portal's scaffolder actions.
 *
 * Config: `goldenPath.skeletonsDir` (default `../../fastapi-skeletons`, relative to the
 * backend's working directory, like the catalog's file locations). The publishing checks
 * read `integrations.github` and `scaffolder.requireScmUserCredentials`, as
 * `publish:github` does.
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
        const integrations = ScmIntegrations.fromConfig(config);
        const githubCredentialsProvider =
          DefaultGithubCredentialsProvider.fromIntegrations(integrations);
        const fetchTemplate = createFetchTemplateAction({
          reader,
          integrations,
        });
        scaffolder.addActions(
          createFetchSkeletonAction({ skeletonsDir, fetchTemplate }),
          createPublishPreflightAction({
            integrations,
            githubCredentialsProvider,
            requireScmUserCredentials:
              config.getOptionalBoolean(
                'scaffolder.requireScmUserCredentials',
              ) ?? false,
          }),
          createPublishRollbackAction({
            integrations,
            githubCredentialsProvider,
          }),
        );
      },
    });
  },
});
