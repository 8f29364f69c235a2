import {
  AuthService,
  PermissionsService,
  resolveSafeChildPath,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  BuildLocalImages,
  LocalImagesSettings,
} from '../localImages/localImages';
import { authorizeClusterWrite } from './clusterWriteAccess';
import { examples } from './localImages.examples';

const ACTION_ID = 'golden-path:local:build-images';

/**
 * `golden-path:local:build-images` builds the images a generated repository's
 * `overlays/local` names (`localhost/<image>:dev`: never pulled from a registry) on the
 * portal's machine and imports them into the local cluster's nodes, so what the
 * overlay deploys can start. Local only: it refuses unless the portal is configured with
 * the local cluster's kubeconfig, and platform/local-repo.sh refuses any other cluster.
 * On a real cluster CI publishes the images instead.
 *
 * Run it on the rendered workspace before publishing: a failure then leaves nothing
 * behind. Builds are idempotent (the same tag is rebuilt and re-imported), so a retried
 * task simply builds again. For a user the permission policy allows
 * `golden-path.kubernetes.apply` (it writes to the cluster's nodes). A dry run checks and
 * says what it would build.
 *
 * @public
 */
export function createLocalImagesAction(options: {
  build: BuildLocalImages;
  auth: AuthService;
  permissions: PermissionsService;
  settings: LocalImagesSettings;
}) {
  const { build, auth, permissions, settings } = options;
  return createTemplateAction({
    id: ACTION_ID,
    description:
      "Local cluster only: builds the images a generated repository's overlays/local names (localhost/<image>:<tag>) on the portal's machine and imports them into the local cluster's nodes (platform/local-repo.sh images).",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        path: z =>
          z
            .string()
            .min(1)
            .default('.')
            .describe(
              'The generated repository in the workspace (its root: where overlays/local is)',
            ),
      },
      output: {
        images: z =>
          z.array(z.string()).describe('The image references now on the nodes'),
      },
    },
    async handler(ctx) {
      const folder = ctx.input.path ?? '.';
      let repoDir: string;
      try {
        repoDir = resolveSafeChildPath(ctx.workspacePath, folder);
      } catch {
        throw new InputError(
          `path "${folder}" is outside the workspace: give the generated repository's folder in it (default ".")`,
        );
      }
      if ('missing' in settings.cluster && ctx.isDryRun) {
        ctx.logger.warn(
          `Dry run: ${ACTION_ID} builds images for the portal's local cluster only, and a real run would stop here: ${settings.cluster.missing}`,
        );
        ctx.output('images', []);
        return;
      }
      if ('missing' in settings.cluster) {
        throw new InputError(
          `${ACTION_ID} builds images for the portal's local cluster only. ${settings.cluster.missing} Nothing was built.`,
        );
      }
      const { kubeconfig } = settings.cluster;
      const user = await authorizeClusterWrite({
        actionId: ACTION_ID,
        credentials: await ctx.getInitiatorCredentials(),
        auth,
        permissions,
        doing: "load images into the local cluster's nodes",
        nothingDone: 'Nothing was built',
      });
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would build the localhost/ images of ${folder}/overlays/local and import them into the local cluster's nodes as ${user} (${settings.script} images). Nothing was built.`,
        );
        ctx.output('images', []);
        return;
      }
      ctx.logger.info(
        `Building the images of ${folder}/overlays/local on the portal's machine for the local cluster (${settings.script} images)`,
      );
      const { images } = await build({
        repoDir,
        kubeconfig,
        onLine: line => ctx.logger.info(line),
        signal: ctx.signal,
      });
      ctx.logger.info(
        `On every node of the local cluster: ${images.join(', ') || 'none'}`,
      );
      ctx.output('images', images);
    },
  });
}
