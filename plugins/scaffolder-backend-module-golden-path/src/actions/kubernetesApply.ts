import { createHash } from 'node:crypto';
import {
  AuditorService,
  AuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { applyAll } from '../kubernetes/applyObjects';
import { ConnectCluster } from '../kubernetes/clusterClient';
import {
  checkTargetNamespace,
  namespaceOwnershipRefusal,
  ownedNamespaceObject,
  scopeToNamespace,
} from '../kubernetes/namespaceScope';
import { objectName, renderManifests } from '../kubernetes/renderManifests';
import { KubernetesActionSettings } from '../kubernetes/settings';
import { authorizeClusterWrite } from './clusterWriteAccess';
import { checkEntityRef, kubernetesInputs } from './kubernetesInputs';
import { examples } from './kubernetesApply.examples';

/** What a finished apply stored in its checkpoint. */
type AppliedObjects = { objects: string[] };

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
 *
 * @public
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

      const user = await authorizeClusterWrite({
        actionId: 'golden-path:kubernetes:apply',
        credentials: await ctx.getInitiatorCredentials(),
        auth,
        permissions,
        doing: 'apply Kubernetes manifests',
        nothingDone: 'Nothing was applied',
      });

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
