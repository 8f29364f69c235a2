/*
 * GitOps environments: what each Flux Kustomization of an entity applied, and
 * whether the cluster runs it. Git stays the source of truth: this only reads.
 */
import {
  KubeCondition,
  KubeDeployment,
  KubeKustomization,
  KubeObject,
  KubePod,
} from './kube';

/** The environments a change is promoted through, in order: shown first. @public */
export const PROMOTION_ORDER: readonly string[] = ['dev', 'staging', 'prod'];

/**
 * Flux's judgement of one Kustomization, in the categories the page colours:
 * `ready` (applied and healthy), `not-ready` (the apply or the health checks
 * failed), `reconciling` (Flux is at work), `suspended` (Flux applies nothing
 * new), `unknown` (Flux has not reported yet).
 *
 * @public
 */
export type FluxReadyState =
  | 'ready'
  | 'not-ready'
  | 'reconciling'
  | 'suspended'
  | 'unknown';

/** @public */
export interface FluxReadiness {
  state: FluxReadyState;
  /** The Ready condition's reason, e.g. `HealthCheckFailed`. */
  reason?: string;
  message?: string;
}

/** @public */
export interface EnvironmentRevision {
  /** The last revision Flux applied and found healthy (`main@sha1:<sha>`). */
  applied?: string;
  /** The last revision Flux tried. */
  attempted?: string;
  /**
   * Set when Flux tried a revision other than the last healthy one:
   * `progressing` while it applies and checks it, `failing` once it reported
   * it not Ready. The pods of the applied revision may still be serving.
   */
  newRevision?: 'progressing' | 'failing';
}

/**
 * How the pods' images compare with the image the Deployment's template (what
 * Flux applied from Git) names: `match`, `mismatch` (some pod runs another
 * digest: a rollout in progress or stuck), `unpinned` (the template names a
 * tag, so Git pins no digest), `unreported` (no pod reports a digest yet).
 *
 * @public
 */
export type DigestAgreement = 'match' | 'mismatch' | 'unpinned' | 'unreported';

/** @public */
export interface EnvironmentContainer {
  name: string;
  /** The image reference in the Deployment's template. */
  image: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
  /** The distinct digests the pods' containers run, from `imageID`. */
  running: string[];
  agreement: DigestAgreement;
}

/** One Deployment of an environment. @public */
export interface EnvironmentWorkload {
  namespace: string;
  name: string;
  ready: number;
  desired: number;
  containers: EnvironmentContainer[];
}

/** One GitOps environment of an entity in one cluster. @public */
export interface EnvironmentView {
  /** `dev` for `./overlays/dev`, else the Kustomization's name. */
  name: string;
  kustomization: { namespace: string; name: string };
  path?: string;
  flux: FluxReadiness;
  revision: EnvironmentRevision;
  /**
   * Where its Deployments were found: Flux's inventory, else (Flux applied
   * nothing yet) the entity's Deployments in the Kustomization's
   * `targetNamespace`; `none` when neither says.
   */
  workloadsFrom: 'inventory' | 'target-namespace' | 'none';
  workloads: EnvironmentWorkload[];
}

/**
 * Whether a cluster's Kustomizations can be read: `not-installed` when the
 * API server does not serve the kind (Flux's CRDs are absent), `forbidden`
 * when the plugin's identity may not list them.
 *
 * @public
 */
export type FluxAvailability =
  | 'installed'
  | 'not-installed'
  | 'forbidden'
  | 'unavailable';

/** The GitOps environments of an entity in one cluster. @public */
export interface ClusterEnvironments {
  flux: FluxAvailability;
  environments: EnvironmentView[];
}

/** A Deployment with the pods of its ReplicaSets. @public */
export interface DeploymentWithPods {
  deployment: KubeDeployment;
  pods: KubePod[];
}

const OVERLAY_PATH = /(?:^|\/)overlays\/([^/]+)\/?$/;
/** A digest at the end of an image reference or a container's imageID. */
const DIGEST = /@(sha256:[0-9a-f]{64})$/;

const keyOf = (o: KubeObject) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function condition(k: KubeKustomization, type: string) {
  return k.status?.conditions?.find((c: KubeCondition) => c.type === type);
}

/** `dev` for a Kustomization of `./overlays/dev`, else its own name. @public */
export function environmentName(k: KubeKustomization): string {
  return OVERLAY_PATH.exec(k.spec?.path ?? '')?.[1] ?? k.metadata?.name ?? '';
}

/** Orders dev, staging, prod first, then the others alphabetically. @public */
export function compareEnvironmentNames(a: string, b: string): number {
  const rank = (n: string) => {
    const i = PROMOTION_ORDER.indexOf(n);
    return i === -1 ? PROMOTION_ORDER.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Flux's judgement of a Kustomization, from its spec and conditions. @public */
export function fluxReadiness(k: KubeKustomization): FluxReadiness {
  if (k.spec?.suspend) {
    return {
      state: 'suspended',
      message: `Flux applies no new revision until the Kustomization is resumed (flux resume kustomization ${k.metadata?.name} -n ${k.metadata?.namespace}).`,
    };
  }
  const ready = condition(k, 'Ready');
  if (!ready) {
    return {
      state: 'unknown',
      message: 'Flux has not reported on this Kustomization yet.',
    };
  }
  const said = {
    ...(ready.reason && { reason: ready.reason }),
    ...(ready.message && { message: ready.message }),
  };
  if (ready.status === 'False' || condition(k, 'Stalled')?.status === 'True') {
    return { state: 'not-ready', ...said };
  }
  const generation = k.metadata?.generation;
  const observed = k.status?.observedGeneration;
  // Ready as of an older spec says nothing about the current one.
  const specNotSeenYet = (observed ?? -1) < (generation ?? -1);
  if (
    ready.status !== 'True' ||
    specNotSeenYet ||
    condition(k, 'Reconciling')?.status === 'True'
  ) {
    return { state: 'reconciling', ...said };
  }
  return { state: 'ready', ...said };
}

function revisionOf(
  k: KubeKustomization,
  flux: FluxReadiness,
): EnvironmentRevision {
  const applied = k.status?.lastAppliedRevision || undefined;
  const attempted = k.status?.lastAttemptedRevision || undefined;
  const revision: EnvironmentRevision = {
    ...(applied && { applied }),
    ...(attempted && { attempted }),
  };
  if (attempted && attempted !== applied) {
    revision.newRevision =
      flux.state === 'not-ready' ? 'failing' : 'progressing';
  }
  return revision;
}

/**
 * The commit of a Flux revision (`main@sha1:<sha>`, or the older
 * `main/<sha>`), or the revision itself when it names none.
 *
 * @public
 */
export function revisionCommit(revision: string): string {
  const m = /(?:@sha1:|@sha256:|\/)([0-9a-f]{7,64})$/.exec(revision);
  return m ? m[1] : revision;
}

/**
 * The digest (`sha256:<hex>`) an image reference or a container's `imageID`
 * ends with. A bare `sha256:<hex>` imageID is the image's local ID, not its
 * registry digest, and is not comparable: undefined.
 *
 * @public
 */
export function imageDigest(reference: string | undefined): string | undefined {
  return reference ? DIGEST.exec(reference)?.[1] : undefined;
}

/** Namespace and name of the Deployments in Flux's inventory; undefined without one. @public */
export function inventoryDeployments(
  k: KubeKustomization,
): { namespace: string; name: string }[] | undefined {
  const entries = k.status?.inventory?.entries;
  if (!entries) return undefined;
  return entries.flatMap(e => {
    // Names and namespaces are DNS labels and groups DNS names: no '_' in any part.
    const [namespace, name, group, kind] = e.id.split('_');
    return group === 'apps' && kind === 'Deployment'
      ? [{ namespace, name }]
      : [];
  });
}

function workloadsOf(
  k: KubeKustomization,
  candidates: DeploymentWithPods[],
): Pick<EnvironmentView, 'workloadsFrom'> & { found: DeploymentWithPods[] } {
  const inventory = inventoryDeployments(k);
  if (inventory) {
    const keys = new Set(inventory.map(d => `${d.namespace}/${d.name}`));
    return {
      workloadsFrom: 'inventory',
      found: candidates.filter(c => keys.has(keyOf(c.deployment))),
    };
  }
  const target = k.spec?.targetNamespace;
  if (target) {
    return {
      workloadsFrom: 'target-namespace',
      found: candidates.filter(
        c => c.deployment.metadata?.namespace === target,
      ),
    };
  }
  return { workloadsFrom: 'none', found: [] };
}

const isGone = (p: KubePod) =>
  p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** What one Deployment's template names and what its pods run. @public */
export function environmentWorkload({
  deployment,
  pods,
}: DeploymentWithPods): EnvironmentWorkload {
  const live = pods.filter(p => !isGone(p));
  const containers = (deployment.spec?.template?.spec?.containers ?? []).map(
    (c): EnvironmentContainer => {
      const image = c.image ?? '';
      const digest = imageDigest(image);
      const running = [
        ...new Set(
          live.flatMap(p => {
            const status = p.status?.containerStatuses?.find(
              s => s.name === c.name,
            );
            const d = imageDigest(status?.imageID);
            return d ? [d] : [];
          }),
        ),
      ].sort();
      let agreement: DigestAgreement;
      if (!digest) agreement = 'unpinned';
      else if (running.length === 0) agreement = 'unreported';
      else agreement = running.every(r => r === digest) ? 'match' : 'mismatch';
      return {
        name: c.name,
        image,
        ...(digest && { digest }),
        running,
        agreement,
      };
    },
  );
  return {
    namespace: deployment.metadata?.namespace ?? '',
    name: deployment.metadata?.name ?? '',
    ready: deployment.status?.readyReplicas ?? 0,
    desired: deployment.spec?.replicas ?? 1,
    containers,
  };
}

/**
 * The environments of an entity in one cluster: one per Kustomization, with
 * the Deployments (among `deployments`, the entity's) Flux's inventory names,
 * in promotion order.
 *
 * @public
 */
export function deriveEnvironments(
  kustomizations: KubeKustomization[],
  deployments: DeploymentWithPods[],
): EnvironmentView[] {
  return kustomizations
    .map((k): EnvironmentView => {
      const flux = fluxReadiness(k);
      const { workloadsFrom, found } = workloadsOf(k, deployments);
      return {
        name: environmentName(k),
        kustomization: {
          namespace: k.metadata?.namespace ?? '',
          name: k.metadata?.name ?? '',
        },
        ...(k.spec?.path && { path: k.spec.path }),
        flux,
        revision: revisionOf(k, flux),
        workloadsFrom,
        workloads: found
          .map(environmentWorkload)
          .sort((a, b) => a.name.localeCompare(b.name)),
      };
    })
    .sort(
      (a, b) =>
        compareEnvironmentNames(a.name, b.name) ||
        a.kustomization.name.localeCompare(b.kustomization.name),
    );
}
