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
import { createKubernetesApplyAction } from './actions/kubernetesApply';
import { createKubernetesValidateAction } from './actions/kubernetesValidate';
import { createKubernetesWaitAction } from './actions/kubernetesWait';
import { createFluxRegisterAction } from './actions/fluxRegister';
import { createLocalImagesAction } from './actions/localImages';
import { readFluxSettings } from './flux/fluxSettings';
import {
  localImagesBuilder,
  readLocalImagesSettings,
} from './localImages/localImages';
import { clusterConnector } from './kubernetes/clusterClient';
import { manifestChecksRunner } from './kubernetes/manifestChecks';
import { readKubernetesActionSettings } from './kubernetes/settings';
import { goldenPathPermissions } from './permissions';

/**
 * Registers the Golden Path Portal's scaffolder actions.
 *
 * Config: `goldenPath.skeletonsDir` (default `../../fastapi-skeletons`, relative to the
 * backend's working directory, like the catalog's file locations). The publishing checks
 * read `integrations.github` and `scaffolder.requireScmUserCredentials`, as
 * `publish:github` does, and `integrations.gitea`, as `publish:gitea` does. The Kubernetes actions read `goldenPath.kubernetes` (the cluster
 * and the actions' own identity in it; see the README) and register the
 * `golden-path.kubernetes.apply` permission, which `golden-path:flux:register`
 * (`goldenPath.flux`) and `golden-path:local:build-images` (`goldenPath.localImages`)
 * check too.
 *
 * @public
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
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
      },
      async init({
        scaffolder,
        config,
        reader,
        auth,
        permissions,
        permissionsRegistry,
        auditor,
      }) {
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

        const kubernetes = readKubernetesActionSettings(config);
        const connect = clusterConnector(kubernetes);
        permissionsRegistry.addPermissions(goldenPathPermissions);
        scaffolder.addActions(
          createKubernetesValidateAction({
            connect,
            runManifestChecks: manifestChecksRunner(
              kubernetes.manifestChecksScript,
            ),
            settings: kubernetes,
          }),
          createKubernetesApplyAction({
            connect,
            auth,
            permissions,
            auditor,
            settings: kubernetes,
          }),
          createKubernetesWaitAction({ connect }),
          createFluxRegisterAction({
            connect,
            auth,
            permissions,
            auditor,
            settings: { ...kubernetes, ...readFluxSettings(config) },
          }),
        );
        const localImages = readLocalImagesSettings(config);
        scaffolder.addActions(
          createLocalImagesAction({
            build: localImagesBuilder(localImages.script),
            auth,
            permissions,
            settings: localImages,
          }),
        );
      },
    });
  },
});
