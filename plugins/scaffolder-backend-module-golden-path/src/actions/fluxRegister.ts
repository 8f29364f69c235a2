import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AuditorService,
  AuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  CustomErrorBase,
  InputError,
  NotAllowedError,
} from '@backstage/errors';
import {
  createTemplateAction,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import {
  canonicalEntityRef,
  checkOwnership,
} from '@golden-path/plugin-rollouts-common';
import {
  apiServerMessage,
  ConnectCluster,
  KubeApiError,
  KubeCluster,
} from '../kubernetes/clusterClient';
import { applyAll } from '../kubernetes/applyObjects';
import {
  checkTargetNamespace,
  namespaceOwnershipRefusal,
} from '../kubernetes/namespaceScope';
import { KubernetesActionSettings } from '../kubernetes/settings';
import {
  checkBranch,
  FLUX_NAME,
  FluxObject,
  normalizeRepositoryPath,
  parseRepositoryUrl,
  renderFluxObjects,
  secretFor,
} from '../flux/fluxObjects';
import {
  FluxProgress,
  fluxProgress,
  FluxStatusObject,
  FluxWaitFor,
} from '../flux/fluxProgress';
import { FLUX_CONFIG_KEY, FluxSettings } from '../flux/fluxSettings';
import { authorizeClusterWrite } from './clusterWriteAccess';
import { checkEntityRef, kubernetesInputs } from './kubernetesInputs';
import { examples } from './fluxRegister.examples';

const ACTION_ID = 'golden-path:flux:register';

/** Flux did not get the repository into the cluster; the message is the controllers'. @public */
export class FluxNotReconciledError extends CustomErrorBase {
  name = 'FluxNotReconciledError' as const;
}

/** A dry run's stand-in for a URL that a skipped publish step did not produce. */
const DRY_RUN_URL = 'http://git.invalid/owner/repository.git';

/** `flux-system/GitRepository/hello-web`, for messages. */
function where(object: FluxObject): string {
  return `${object.metadata?.namespace}/${object.kind}/${object.metadata?.name}`;
}

/** The same object, pinned to the resourceVersion whose ownership was checked. */
function pinned(object: FluxObject, existing: FluxStatusObject | undefined) {
  const resourceVersion = existing?.metadata?.resourceVersion;
  return resourceVersion
    ? { ...object, metadata: { ...object.metadata, resourceVersion } }
    : object;
}

function notInstalled(e: unknown, namespace: string): Error {
  const message = e instanceof KubeApiError ? apiServerMessage(e) : String(e);
  return new InputError(
    `Flux is not installed in the cluster (${message}). Nothing was registered. Locally: platform/flux/flux.sh start (make start and make demo do it for the local cluster); your own cluster: install Flux's source-controller and kustomize-controller, then set ${FLUX_CONFIG_KEY}.namespace if they do not use ${namespace}.`,
  );
}

/** The registration's objects as the cluster has them (undefined: not there yet). */
async function existingRegistration(
  cluster: KubeCluster,
  objects: FluxObject[],
  signal?: AbortSignal,
): Promise<(FluxStatusObject | undefined)[]> {
  const found: (FluxStatusObject | undefined)[] = [];
  for (const object of objects) {
    try {
      found.push(
        await cluster.getObject(
          {
            apiVersion: object.apiVersion!,
            kind: object.kind!,
            namespace: object.metadata?.namespace,
            name: object.metadata!.name!,
          },
          signal,
        ),
      );
    } catch (e) {
      if (e instanceof KubeApiError && e.statusCode === 404) {
        throw notInstalled(e, object.metadata?.namespace ?? '');
      }
      throw e;
    }
  }
  return found;
}

async function waitForFlux(options: {
  cluster: KubeCluster;
  gitRepository: FluxObject;
  kustomization: FluxObject;
  waitFor: FluxWaitFor;
  timeoutMs: number;
  pollIntervalMs: number;
  now: () => number;
  log: (message: string) => void;
  signal?: AbortSignal;
}): Promise<Extract<FluxProgress, { state: 'done' }>> {
  const { cluster, gitRepository, kustomization, log, signal } = options;
  const ref = (o: FluxObject) => ({
    apiVersion: o.apiVersion!,
    kind: o.kind!,
    namespace: o.metadata?.namespace,
    name: o.metadata!.name!,
  });
  const deadline = options.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    if (signal?.aborted) {
      throw new FluxNotReconciledError(
        `The task was cancelled while waiting for Flux (last: ${last}). The GitRepository and Kustomization stay registered; Flux keeps reconciling.`,
      );
    }
    const progress = fluxProgress(
      (await cluster.getObject(ref(gitRepository), signal)) as FluxStatusObject,
      (await cluster.getObject(ref(kustomization), signal)) as FluxStatusObject,
      options.waitFor,
    );
    if (progress.message !== last) {
      log(progress.message);
      last = progress.message;
    }
    if (progress.state === 'done') return progress;
    if (progress.state === 'failed') {
      throw new FluxNotReconciledError(
        `Flux could not reconcile ${where(kustomization)}: ${
          progress.message
        }. The objects stay registered and Flux retries: fix the cause and push, or delete them (kubectl -n ${
          kustomization.metadata?.namespace
        } delete kustomization,gitrepository ${kustomization.metadata?.name}).`,
      );
    }
    if (options.now() >= deadline) {
      throw new FluxNotReconciledError(
        `Flux did not reconcile ${where(kustomization)} within ${
          options.timeoutMs / 1000
        } s: ${
          progress.message
        }. The objects stay registered and Flux keeps trying.`,
      );
    }
    await sleep(options.pollIntervalMs, undefined, { signal }).catch(
      () => undefined,
    );
  }
}

/**
 * The input of `golden-path:flux:register`, written out (not inferred from the schema)
 * so that the published API reads the same after every build: an inferred union's order
 * depends on which file TypeScript happened to check first.
 *
 * @public
 */
export type FluxRegisterInput = {
  url: string;
  branch: string;
  path: string;
  namespace: string;
  entityRef: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  prune: boolean;
  waitFor: 'none' | 'applied' | 'ready';
  waitTimeoutSeconds: number;
  name?: string | undefined;
};

/** The output of `golden-path:flux:register`. @public */
export type FluxRegisterOutput = {
  gitRepository: string;
  kustomization: string;
  revision?: string | undefined;
};

/**
 * `golden-path:flux:register` registers a published repository with Flux: a
 * GitRepository that source-controller fetches every `intervalSeconds`, and a
 * Kustomization that kustomize-controller applies from its `path` into the template's
 * namespace, so every later push reconciles into the cluster.
 *
 * Guards, in order: the namespace is not a protected one; the URL is an http(s) clone
 * URL without credentials (those come from the Secret that `goldenPath.flux.gitCredentials`
 * names for its host); the task was started by a signed-in user whom the permission
 * policy allows `golden-path.kubernetes.apply`; Flux's kinds are served; an existing
 * namespace, GitRepository or Kustomization of that name must carry the ownership
 * annotation naming `entityRef` (and is pinned to the checked resourceVersion). The
 * write is audited and runs once per task (checkpoint). Then it waits, from the
 * controllers' own conditions, until the revision is applied (`waitFor: applied`) or
 * applied and healthy (`ready`), failing with their message. A dry run checks and shows
 * the objects without writing.
 *
 * @public
 */
export function createFluxRegisterAction(options: {
  connect: ConnectCluster;
  auth: AuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  settings: FluxSettings &
    Pick<
      KubernetesActionSettings,
      'fieldManager' | 'protectedNamespaces' | 'dryRunNamespace'
    >;
  /** How often the controllers' status is read (default 2 s). */
  pollIntervalMs?: number;
  now?: () => number;
}): TemplateAction<FluxRegisterInput, FluxRegisterOutput, 'v2'> {
  const { connect, auth, permissions, auditor, settings } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const now = options.now ?? Date.now;

  return createTemplateAction({
    id: ACTION_ID,
    description:
      "Registers a published repository with Flux (a GitRepository and a Kustomization of its overlay, applied into the template's namespace), so every push reconciles into the cluster; waits until Flux has applied it. For a user the portal's permission policy allows golden-path.kubernetes.apply; once per task (checkpoint).",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        // No URL pattern here: in a dry run the publish step is skipped and its
        // remoteUrl is a placeholder, which the handler explains instead of a schema error.
        url: z =>
          z
            .string()
            .min(1)
            .describe(
              "The repository's http(s) clone URL, e.g. publish:gitea's remoteUrl (http://127.0.0.1:3300/golden-path/hello-web.git)",
            ),
        branch: z =>
          z.string().min(1).max(255).default('main').describe('The branch'),
        path: z =>
          z
            .string()
            .min(1)
            .default('overlays/local')
            .describe('The folder of the repository Flux builds and applies'),
        namespace: kubernetesInputs.namespace,
        entityRef: kubernetesInputs.entityRef,
        name: z =>
          z
            .string()
            .regex(FLUX_NAME)
            .optional()
            .describe(
              "The name of the GitRepository and Kustomization (default: the entity's name)",
            ),
        intervalSeconds: z =>
          z
            .number()
            .int()
            .min(5)
            .max(3600)
            .default(10)
            .describe('How often source-controller fetches the branch'),
        timeoutSeconds: z =>
          z
            .number()
            .int()
            .min(10)
            .max(3600)
            .default(180)
            .describe(
              "How long kustomize-controller waits for the applied objects' health before it reports HealthCheckFailed",
            ),
        prune: z =>
          z
            .boolean()
            .default(true)
            .describe('Delete objects the repository no longer has'),
        waitFor: z =>
          z
            .enum(['none', 'applied', 'ready'])
            .default('applied')
            .describe(
              'none: return after registering; applied: until Flux applied the current revision (then golden-path:kubernetes:wait follows the rollout); ready: until every applied object is healthy too',
            ),
        waitTimeoutSeconds: z => z.number().int().min(1).max(3600).default(300),
      },
      output: {
        gitRepository: z =>
          z.string().describe('namespace/name of the GitRepository'),
        kustomization: z =>
          z.string().describe('namespace/name of the Kustomization'),
        revision: z =>
          z
            .string()
            .optional()
            .describe('The revision Flux applied (branch@sha1:<commit>)'),
      },
    },
    async handler(ctx) {
      const { namespace, entityRef } = ctx.input;
      const branch = ctx.input.branch ?? 'main';
      const waitFor = ctx.input.waitFor ?? 'applied';
      checkEntityRef(entityRef);
      checkTargetNamespace(namespace, [
        ...settings.protectedNamespaces,
        settings.dryRunNamespace,
        settings.namespace,
      ]);
      checkBranch(branch);
      const path = normalizeRepositoryPath(ctx.input.path ?? 'overlays/local');
      // checkEntityRef has made sure it is kind:namespace/name.
      const name =
        ctx.input.name ?? canonicalEntityRef(entityRef)!.split('/')[1];
      if (!FLUX_NAME.test(name)) {
        throw new InputError(
          `"${name}" cannot name a GitRepository and Kustomization (a DNS label of at most 63 characters): give the step a name input`,
        );
      }
      let url: string;
      let host: string;
      try {
        ({ url, host } = parseRepositoryUrl(ctx.input.url));
      } catch (e) {
        if (!ctx.isDryRun) throw e;
        ctx.logger.info(
          `Dry run: the repository URL "${ctx.input.url}" is a placeholder (its publish step does not run in a dry run); showing the objects for ${DRY_RUN_URL}.`,
        );
        ({ url, host } = { url: DRY_RUN_URL, host: 'git.invalid' });
      }
      const secretName = secretFor(host, settings.gitCredentials);

      const user = await authorizeClusterWrite({
        actionId: ACTION_ID,
        credentials: await ctx.getInitiatorCredentials(),
        auth,
        permissions,
        doing: 'register repositories with Flux',
        nothingDone: 'Nothing was registered',
      });

      const { gitRepository, kustomization } = renderFluxObjects({
        name,
        fluxNamespace: settings.namespace,
        url,
        branch,
        path,
        targetNamespace: namespace,
        entityRef,
        intervalSeconds: ctx.input.intervalSeconds ?? 10,
        timeoutSeconds: ctx.input.timeoutSeconds ?? 180,
        prune: ctx.input.prune ?? true,
        secretName,
        serviceAccountName: settings.serviceAccountName,
      });
      const fluxObjects = [gitRepository, kustomization];

      // A dry run (the Template Editor, the template tests) shows the objects even
      // where the portal has no cluster; a real run needs one.
      let cluster: KubeCluster | undefined;
      try {
        cluster = await connect();
      } catch (e) {
        if (!ctx.isDryRun) throw e;
        ctx.logger.warn(
          `Dry run: the cluster was not checked (a real run would stop here): ${
            (e as Error).message
          }`,
        );
      }
      const existing = cluster
        ? await existingRegistration(cluster, fluxObjects, ctx.signal)
        : [];
      const refusals = existing.flatMap((found, i) => {
        if (!found) return [];
        const check = checkOwnership(found, entityRef);
        return check.owned
          ? []
          : [
              `${where(
                fluxObjects[i],
              )} already exists and is not ${entityRef}'s: ${check.reason}`,
            ];
      });
      const namespaceRefusal =
        cluster &&
        namespaceOwnershipRefusal(
          await cluster.getNamespace(namespace, ctx.signal),
          entityRef,
        );
      if (namespaceRefusal) refusals.push(namespaceRefusal);
      if (refusals.length > 0) {
        throw new NotAllowedError(
          `Nothing was registered: ${refusals.join(
            ' ',
          )} Choose another name (the step's name input) or namespace.`,
        );
      }

      ctx.output('gitRepository', `${settings.namespace}/${name}`);
      ctx.output('kustomization', `${settings.namespace}/${name}`);
      const summary = `${url} (branch ${branch}, ${path}) into namespace ${namespace}, ${
        secretName
          ? `credentials from Secret ${settings.namespace}/${secretName}`
          : `no credentials (no ${FLUX_CONFIG_KEY}.gitCredentials entry for ${host}: the repository must be public)`
      }`;
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would register ${summary} as ${user}: ${fluxObjects
            .map(where)
            .join(', ')}. Nothing was sent to the cluster.\n${JSON.stringify(
            fluxObjects,
            null,
            2,
          )}`,
        );
        return;
      }

      const live = cluster!;
      const plan = fluxObjects.map((o, i) => pinned(o, existing[i]));
      const digest = createHash('sha256')
        .update(JSON.stringify(fluxObjects))
        .digest('hex')
        .slice(0, 16);
      const key = `flux-register-${settings.namespace}-${name}-${digest}`;
      let registeredNow = false;
      await ctx.checkpoint({
        key,
        fn: async () => {
          registeredNow = true;
          const event = await auditor.createEvent({
            eventId: 'flux-register',
            severityLevel: 'medium',
            meta: {
              taskId: ctx.task.id,
              actor: user,
              entityRef,
              url,
              branch,
              path,
              targetNamespace: namespace,
              objects: plan.map(where),
            },
          });
          try {
            await applyAll(
              live,
              plan,
              settings.fieldManager,
              (applied, warnings) => {
                ctx.logger.info(`Applied ${applied} in ${settings.namespace}`);
                warnings.forEach(w =>
                  ctx.logger.warn(`${applied}: API server warning: ${w}`),
                );
              },
              ctx.signal,
            );
            await event.success();
            return {};
          } catch (error) {
            await event.fail({ error: error as Error });
            throw error;
          }
        },
      });
      ctx.logger.info(
        registeredNow
          ? `Registered ${summary}`
          : `An earlier attempt of this task registered ${summary} (checkpoint ${key}): not applying it again`,
      );

      if (waitFor === 'none') return;
      const done = await waitForFlux({
        cluster: live,
        gitRepository,
        kustomization,
        waitFor,
        timeoutMs: (ctx.input.waitTimeoutSeconds ?? 300) * 1000,
        pollIntervalMs,
        now,
        log: message => ctx.logger.info(`Flux: ${message}`),
        signal: ctx.signal,
      });
      ctx.output('revision', done.revision);
    },
  });
}
