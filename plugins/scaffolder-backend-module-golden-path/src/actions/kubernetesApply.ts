import { createHash } from 'node:crypto';
import {
  AuditorService,
  AuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { KubeObject } from '@internal/plugin-rollouts-common';
import {
  apiServerMessage,
  ConnectCluster,
  KubeApiError,
  KubeCluster,
} from '../kubernetes/clusterClient';
import {
  checkTargetNamespace,
  namespaceOwnershipRefusal,
  ownedNamespaceObject,
  scopeToNamespace,
} from '../kubernetes/namespaceScope';
import { objectName, renderManifests } from '../kubernetes/renderManifests';
import { KubernetesActionSettings } from '../kubernetes/settings';
import { goldenPathKubernetesApplyPermission } from '../permissions';
import { checkEntityRef, kubernetesInputs } from './kubernetesInputs';
import { examples } from './kubernetesApply.examples';

/** What a finished apply stored in its checkpoint. */
type AppliedObjects = { objects: string[] };

/**
 * The error for an object the API server refused, with what was applied before it (the
 * apply is not a transaction: a retry applies everything again, which server-side apply
 * makes safe).
 */
function applyFailure(
  error: KubeApiError,
  object: KubeObject,
  applied: string[],
): Error {
  const message = `The API server refused ${objectName(
    object,
  )}: ${apiServerMessage(error)}. Applied before it: ${
    applied.join(', ') || 'nothing'
  }.`;
  if (error.statusCode === 403) return new NotAllowedError(message);
  if (error.statusCode === 409) return new ConflictError(message);
  return new InputError(message);
}

async function applyAll(
  cluster: KubeCluster,
  objects: KubeObject[],
  fieldManager: string,
  log: (applied: string, warnings: string[]) => void,
  signal?: AbortSignal,
): Promise<string[]> {
  const applied: string[] = [];
  for (const object of objects) {
    try {
      const { warnings } = await cluster.apply(object, {
        fieldManager,
        dryRun: false,
        signal,
      });
      applied.push(objectName(object));
      log(objectName(object), warnings);
    } catch (e) {
      if (e instanceof KubeApiError) throw applyFailure(e, object, applied);
      throw e;
    }
  }
  return applied;
}

/**
 * `golden-path:kubernetes:apply` server-side applies the rendered manifests of one folder
 * into the namespace the template owns, with the portal's field manager.
 *
 * Guards, in order: the namespace is not a protected one; the task was started by a
 * signed-in user whom the permission policy allows `golden-path.kubernetes.apply`; every
 * object stays inside the namespace; an existing namespace carries the ownership
 * annotation naming `entityRef` (a new one gets it, and an existing one is pinned to the
 * resourceVersion that was checked). The write is audited and runs in a checkpoint, so a
 * retried task does not apply the same manifests twice. A dry run checks everything and
 * lists what it would apply, without writing.
 */
export function createKubernetesApplyAction(options: {
  connect: ConnectCluster;
  auth: AuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  settings: Pick<
    KubernetesActionSettings,
    'fieldManager' | 'protectedNamespaces' | 'dryRunNamespace' | 'kubectl'
  >;
}) {
  const { connect, auth, permissions, auditor, settings } = options;

  return createTemplateAction({
    id: 'golden-path:kubernetes:apply',
    description:
      "Server-side applies the workspace's rendered manifests (kustomize applied) into the namespace the template owns, for a user the portal's permission policy allows golden-path.kubernetes.apply. Runs once per task (checkpoint); a dry run only lists what it would apply.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        path: z => kubernetesInputs.path(z).default('k8s'),
        namespace: kubernetesInputs.namespace,
        entityRef: kubernetesInputs.entityRef,
      },
      output: {
        objects: z =>
          z
            .array(z.string())
            .describe(
              'The objects applied (or, in a dry run, to be applied), as <Kind>/<name>',
            ),
        namespace: z => z.string().describe('The namespace they are in'),
      },
    },
    async handler(ctx) {
      const { namespace, entityRef } = ctx.input;
      const folder = ctx.input.path ?? 'k8s';
      checkEntityRef(entityRef);
      checkTargetNamespace(namespace, [
        ...settings.protectedNamespaces,
        settings.dryRunNamespace,
      ]);

      const credentials = await ctx.getInitiatorCredentials();
      if (!auth.isPrincipal(credentials, 'user')) {
        const by = auth.isPrincipal(credentials, 'service')
          ? `the service ${credentials.principal.subject}`
          : 'nobody signed in';
        throw new NotAllowedError(
          `golden-path:kubernetes:apply writes to the cluster only for a task started by a signed-in user; this task was started by ${by}. Nothing was applied.`,
        );
      }
      const user = credentials.principal.userEntityRef;
      const [decision] = await permissions.authorize(
        [{ permission: goldenPathKubernetesApplyPermission }],
        { credentials },
      );
      if (decision.result !== AuthorizeResult.ALLOW) {
        throw new NotAllowedError(
          `${user} may not apply Kubernetes manifests: the portal's permission policy denies ${goldenPathKubernetesApplyPermission.name}. Nothing was applied; ask a portal administrator for access.`,
        );
      }

      const rendered = await renderManifests({
        workspacePath: ctx.workspacePath,
        path: folder,
        kubectl: settings.kubectl,
        signal: ctx.signal,
      });
      const cluster = await connect();
      const scoped = await scopeToNamespace(rendered.objects, namespace, o =>
        cluster.kindInfo(o.apiVersion ?? '', o.kind ?? ''),
      );
      if (scoped.refusals.length > 0) {
        throw new InputError(
          `Nothing was applied: ${scoped.refusals.length} object${
            scoped.refusals.length === 1 ? '' : 's'
          } of ${folder} may not be applied:\n${scoped.refusals
            .map(r => `- ${r}`)
            .join('\n')}`,
        );
      }
      const existing = await cluster.getNamespace(namespace, ctx.signal);
      const ownership = namespaceOwnershipRefusal(existing, entityRef);
      if (ownership) {
        throw new NotAllowedError(`Nothing was applied: ${ownership}`);
      }

      const fromManifests = scoped.objects.find(o => o.kind === 'Namespace');
      const rest = scoped.objects.filter(o => o !== fromManifests);
      const plan = [
        ownedNamespaceObject({ namespace, entityRef, fromManifests, existing }),
        ...rest,
      ];
      const names = plan.map(objectName);
      ctx.output('namespace', namespace);

      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would apply ${
            names.length
          } objects into namespace ${namespace} as ${user} (field manager ${
            settings.fieldManager
          }): ${names.join(', ')}. Nothing was sent to the cluster.`,
        );
        ctx.output('objects', names);
        return;
      }

      // The same manifests into the same namespace are one apply per task; the key leaves
      // out the namespace's resourceVersion, which the first apply itself changes.
      const digest = createHash('sha256')
        .update(
          JSON.stringify({ namespace, entityRef, objects: scoped.objects }),
        )
        .digest('hex')
        .slice(0, 16);
      const key = `kubernetes-apply-${namespace}-${digest}`;
      let appliedNow = false;
      const result = await ctx.checkpoint<AppliedObjects>({
        key,
        fn: async () => {
          appliedNow = true;
          const event = await auditor.createEvent({
            eventId: 'kubernetes-apply',
            severityLevel: 'medium',
            meta: {
              taskId: ctx.task.id,
              actor: user,
              namespace,
              entityRef,
              fieldManager: settings.fieldManager,
              objects: names,
            },
          });
          try {
            const objects = await applyAll(
              cluster,
              plan,
              settings.fieldManager,
              (name, warnings) => {
                ctx.logger.info(`Applied ${name} in namespace ${namespace}`);
                warnings.forEach(w =>
                  ctx.logger.warn(`${name}: API server warning: ${w}`),
                );
              },
              ctx.signal,
            );
            await event.success({ meta: { applied: objects } });
            return { objects };
          } catch (error) {
            await event.fail({ error: error as Error });
            throw error;
          }
        },
      });
      if (!appliedNow) {
        ctx.logger.info(
          `These manifests were applied by an earlier attempt of this task (checkpoint ${key}): not applying them again. Objects: ${result.objects.join(
            ', ',
          )}`,
        );
      }
      ctx.output('objects', result.objects);
    },
  });
}
