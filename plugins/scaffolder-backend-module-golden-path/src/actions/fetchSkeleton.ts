import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { examples } from './fetchSkeleton.examples';

/** Skeleton part names: folders below the skeletons root, never `..` or absolute. */
const PART_NAME = /^[a-z0-9_][a-z0-9_-]*(\/[a-z0-9_][a-z0-9_-]*)*$/;

/**
 * The subset of the built-in `fetch:template` action this action delegates to.
 * Typed loosely on purpose: the built-in action's generic input type is not
 * exported, and we only ever pass it the inputs it documents.
 *
 * @public
 */
export type FetchTemplateAction = Pick<
  TemplateAction<any, any, any>,
  'handler'
>;

/**
 * Lists the skeleton parts available below `skeletonsDir`: the folders one and two
 * levels down (`static-web`, `_shared/service`, `multi-tier/backend`). Templates name
 * them in `parts`; anything else is refused.
 *
 * @public
 */
export function listSkeletonParts(skeletonsDir: string): string[] {
  const subfolders = (relative: string) =>
    fs
      .readdirSync(path.join(skeletonsDir, relative), { withFileTypes: true })
      .filter(entry => entry.isDirectory() && PART_NAME.test(entry.name))
      .map(entry => (relative ? `${relative}/${entry.name}` : entry.name));

  return subfolders('')
    .flatMap(top => [top, ...subfolders(top)])
    .sort();
}

/**
 * `golden-path:fetch:skeleton` renders one or more skeleton parts from the portal's
 * `fastapi-skeletons/` folder into the workspace, in order, each later part replacing
 * files of the earlier ones.
 *
 * Why not plain `fetch:template`: it resolves relative URLs against the template's own
 * folder and refuses `../` for file-registered templates, so templates could not share
 * `fastapi-skeletons/_shared`. This action points the built-in action at the skeletons
 * root instead, so rendering (Nunjucks, filters, `copyWithoutTemplating`) is exactly the
 * scaffolder's own.
 *
 * @public
 */
export function createFetchSkeletonAction(options: {
  skeletonsDir: string;
  fetchTemplate: FetchTemplateAction;
}) {
  const skeletonsDir = path.resolve(options.skeletonsDir);
  // A file URL inside the root makes the built-in action resolve `./<part>` below it.
  const baseUrl = pathToFileURL(path.join(skeletonsDir, 'skeletons.yaml')).href;

  return createTemplateAction({
    id: 'golden-path:fetch:skeleton',
    description:
      'Renders skeleton parts from the portal\'s fastapi-skeletons folder (for example "_shared/service" then "static-web") into the workspace with the fetch:template engine.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        parts: z =>
          z
            .array(
              z
                .string()
                .regex(
                  PART_NAME,
                  'Use folder names below fastapi-skeletons, like "_shared/service"',
                ),
            )
            .min(1)
            .max(10)
            .describe(
              'Skeleton parts below fastapi-skeletons/, rendered in order; later parts replace files of earlier ones',
            ),
        targetPath: z =>
          z
            .string()
            .optional()
            .describe(
              'Folder of the workspace to render into (default: the workspace root)',
            ),
        values: z =>
          z
            .record(z.string(), z.any())
            .optional()
            .describe('Values available to the skeleton as ${{ values.* }}'),
        copyWithoutTemplating: z =>
          z
            .array(z.string())
            .optional()
            .describe(
              'Globs (relative to each part) of files copied as they are, such as GitHub workflows that use ${{ }} themselves',
            ),
      },
      output: {
        parts: z =>
          z.array(z.string()).describe('The parts that were rendered'),
      },
    },
    async handler(ctx) {
      const { parts, targetPath, values, copyWithoutTemplating } = ctx.input;
      const known = new Set(listSkeletonParts(skeletonsDir));
      const unknown = parts.filter(part => !known.has(part));
      if (unknown.length > 0) {
        throw new InputError(
          `Unknown skeleton part(s) ${unknown.join(
            ', ',
          )}; available in ${skeletonsDir}: ${[...known].join(', ')}`,
        );
      }
      for (const part of parts) {
        ctx.logger.info(`Rendering skeleton part ${part}`);
        await options.fetchTemplate.handler({
          ...ctx,
          templateInfo: { ...ctx.templateInfo, baseUrl },
          input: {
            url: `./${part}`,
            targetPath,
            values,
            copyWithoutTemplating,
            replace: true,
          },
        } as Parameters<FetchTemplateAction['handler']>[0]);
      }
      ctx.output('parts', parts);
    },
  });
}
