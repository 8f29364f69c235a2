import fs from 'node:fs/promises';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import {
  apiServerMessage,
  ConnectCluster,
  KubeApiError,
  KubeCluster,
} from '../kubernetes/clusterClient';
import {
  describeFinding,
  RunManifestChecks,
} from '../kubernetes/manifestChecks';
import {
  checkTargetNamespace,
  namespaceOwnershipRefusal,
  ownedNamespaceObject,
  scopeToNamespace,
} from '../kubernetes/namespaceScope';
import { objectName, renderManifests } from '../kubernetes/renderManifests';
import { CONFIG_KEY, KubernetesActionSettings } from '../kubernetes/settings';
import { checkEntityRef, kubernetesInputs } from './kubernetesInputs';
import { examples } from './kubernetesValidate.examples';

/** Sends one object as a dry-run apply; returns the API server's refusal, if any. */
async function dryRun(
  cluster: KubeCluster,
  object: KubeObject,
  fieldManager: string,
  onWarning: (text: string) => void,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const { warnings } = await cluster.apply(object, {
      fieldManager,
      dryRun: true,
      signal,
    });
    warnings.forEach(onWarning);
    return undefined;
  } catch (e) {
    if (e instanceof KubeApiError) return apiServerMessage(e);
    throw e;
  }
}

/**
 * `golden-path:kubernetes:validate` checks a template's manifests before anything is
 * published: renders every folder (kustomize applied), keeps them inside the template's
 * namespace, runs the project's schema and policy checks (tools/manifest-checks) and a
 * server-side dry-run of every object against the configured cluster (`dryRun=All`,
 * strict field validation, so admission, quotas and unknown fields are the API server's
 * verdict). Every problem is reported at once, in the API server's own words.
 *
 * It writes nothing, so it runs in dry runs (the template editor) too.
 *
 * @public
 */
export function createKubernetesValidateAction(options: {
  connect: ConnectCluster;
  runManifestChecks: RunManifestChecks;
  settings: Pick<
    KubernetesActionSettings,
    'fieldManager' | 'protectedNamespaces' | 'dryRunNamespace' | 'kubectl'
  >;
}) {
  const { connect, runManifestChecks, settings } = options;

  return createTemplateAction({
    id: 'golden-path:kubernetes:validate',
    description:
      "Renders the workspace's Kubernetes manifests (kustomize applied), runs the project's schema and policy checks and a server-side dry-run of every object against the configured cluster, and fails with the API server's own messages before anything is published. Writes nothing.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        paths: z =>
          z
            .array(kubernetesInputs.path(z))
            .min(1, 'paths needs at least one folder of manifests')
            .default(['k8s'])
            .describe(
              'Folders of manifests in the workspace (default [k8s]), each rendered and checked on its own, e.g. [k8s, overlays/local]',
            ),
        namespace: kubernetesInputs.namespace,
        entityRef: kubernetesInputs.entityRef,
        policyChecks: z =>
          z
            .boolean()
            .default(true)
            .describe(
              "Run the project's schema and policy checks (tools/manifest-checks) on the rendered manifests (default true)",
            ),
        catalogInfoPath: z =>
          z
            .string()
            .optional()
            .describe(
              "The component's catalog-info.yaml in the workspace (default catalog-info.yaml when it exists): the policy checks require its kubernetes-id label and namespace on every object",
            ),
      },
      output: {
        objects: z =>
          z
            .array(z.string())
            .describe('Every object validated, as <folder>: <Kind>/<name>'),
      },
    },
    async handler(ctx) {
      const { namespace, entityRef, policyChecks } = ctx.input;
      const paths = ctx.input.paths ?? ['k8s'];
      checkEntityRef(entityRef);
      checkTargetNamespace(namespace, [
        ...settings.protectedNamespaces,
        settings.dryRunNamespace,
      ]);
      const cluster = await connect();
      const problems: string[] = [];
      const validated: string[] = [];

      const existing = await cluster.getNamespace(namespace, ctx.signal);
      const ownership = namespaceOwnershipRefusal(existing, entityRef);
      if (ownership) problems.push(ownership);
      // The API server refuses even a dry-run into a namespace that does not exist, so a
      // new namespace's objects are dry-run in an empty one kept for that purpose.
      const dryRunNamespace = existing ? namespace : settings.dryRunNamespace;
      if (!existing) {
        if (!(await cluster.getNamespace(dryRunNamespace, ctx.signal))) {
          throw new Error(
            `Namespace ${namespace} does not exist yet, and the namespace for dry-runs of new namespaces' objects, ${dryRunNamespace}, does not exist either. ` +
              `Create it once (kubectl create namespace ${dryRunNamespace}; nothing is ever stored in it) or set ${CONFIG_KEY}.dryRunNamespace.`,
          );
        }
        ctx.logger.info(
          `Namespace ${namespace} does not exist yet: its objects are dry-run in ${dryRunNamespace} (nothing is stored there).`,
        );
      }

      const catalogInfo = await findCatalogInfo(
        ctx.workspacePath,
        ctx.input.catalogInfoPath,
      );
      for (const folder of paths) {
        const rendered = await renderManifests({
          workspacePath: ctx.workspacePath,
          path: folder,
          kubectl: settings.kubectl,
          signal: ctx.signal,
        });
        const scoped = await scopeToNamespace(rendered.objects, namespace, o =>
          cluster.kindInfo(o.apiVersion ?? '', o.kind ?? ''),
        );
        problems.push(...scoped.refusals.map(r => `${folder}: ${r}`));

        if (policyChecks) {
          const findings = await runManifestChecks({
            text: rendered.text,
            catalogInfo,
            signal: ctx.signal,
          });
          problems.push(
            ...findings.map(f => `${folder}: ${describeFinding(f)} [policy]`),
          );
        }

        for (const object of scoped.objects) {
          const sent =
            object.kind === 'Namespace'
              ? ownedNamespaceObject({
                  namespace,
                  entityRef,
                  fromManifests: object,
                  existing,
                })
              : {
                  ...object,
                  metadata: { ...object.metadata, namespace: dryRunNamespace },
                };
          const name = `${folder}: ${objectName(object)}`;
          const refusal = await dryRun(
            cluster,
            sent,
            settings.fieldManager,
            warning =>
              ctx.logger.warn(`${name}: API server warning: ${warning}`),
            ctx.signal,
          );
          if (refusal) {
            problems.push(`${name}: ${refusal}`);
          } else {
            validated.push(name);
          }
        }
      }

      if (problems.length > 0) {
        throw new InputError(
          `The Kubernetes manifests have ${problems.length} problem${
            problems.length === 1 ? '' : 's'
          }; nothing was applied or published:\n${problems
            .map(p => `- ${p}`)
            .join('\n')}`,
        );
      }
      ctx.logger.info(
        `The cluster accepts all ${
          validated.length
        } objects (server-side dry-run${
          policyChecks ? ' and the project checks' : ''
        }): ${validated.join(', ')}`,
      );
      ctx.output('objects', validated);
    },
  });
}

async function findCatalogInfo(
  workspacePath: string,
  given: string | undefined,
): Promise<string | undefined> {
  let file: string;
  try {
    file = resolveSafeChildPath(workspacePath, given ?? 'catalog-info.yaml');
  } catch {
    throw new InputError(
      `catalogInfoPath ${given} is outside the task's workspace`,
    );
  }
  const found = await fs.stat(file).then(
    s => s.isFile(),
    () => false,
  );
  if (!found && given) {
    throw new InputError(
      `catalogInfoPath ${given} is not a file in the task's workspace`,
    );
  }
  return found ? file : undefined;
}
