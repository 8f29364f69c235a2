import {
  analyzePodTemplateProbes,
  BlueGreenService,
  ClusterEnvironments,
  ClusterRollouts,
  containerResources,
  deriveEnvironments,
  deriveRolloutStatus,
  detectBlueGreen,
  DeploymentView,
  EntityRolloutsResponse,
  KubeDeployment,
  KubeObject,
  KubePod,
  KubeReplicaSet,
  ownedReplicaSets,
  podHealth,
  summarizeHpa,
  summarizeLimitRange,
  summarizeQuota,
  toIsoTime,
  WarningEvent,
} from '@golden-path/plugin-rollouts-common';
import { RolloutsSettings } from '../../settings';
import {
  ClusterHealth,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from '../clusters/types';
import { EntitySelection } from '../entitySelection';
import {
  controllerUid,
  entityKustomizations,
  entityObjects,
  EntityObjects,
  namespaceOf as ns,
} from './entityObjects';

const MAX_EVENTS = 50;

interface ByController {
  replicaSets: Map<string | undefined, KubeReplicaSet[]>;
  pods: Map<string | undefined, KubePod[]>;
}

function groupByController<T extends KubeObject>(objects: T[]) {
  const groups = new Map<string | undefined, T[]>();
  for (const o of objects) {
    const uid = controllerUid(o);
    const group = groups.get(uid);
    if (group) group.push(o);
    else groups.set(uid, [o]);
  }
  return groups;
}

/** The pods of a Deployment's ReplicaSets, old and new. */
function podsOf(d: KubeDeployment, byController: ByController): KubePod[] {
  return (byController.replicaSets.get(d.metadata?.uid) ?? []).flatMap(
    rs => byController.pods.get(rs.metadata?.uid) ?? [],
  );
}

/**
 * The read model: what an entity's rollouts look like in every cluster,
 * derived from the caches only (a page view costs no Kubernetes API call).
 *
 * @public
 */
export class StatusService {
  constructor(
    private readonly clusters: RolloutsClusterRegistry,
    private readonly settings: RolloutsSettings,
  ) {}

  /** The clusters an entity may live in. */
  clustersFor(selection: EntitySelection): RolloutsCluster[] {
    return this.clusters
      .list()
      .filter(c => !selection.cluster || c.name === selection.cluster);
  }

  /** Blue-green pairs among an entity's objects in one cluster. */
  blueGreen(objects: EntityObjects): BlueGreenService[] {
    return detectBlueGreen({
      services: objects.services,
      deployments: objects.deployments,
      pods: objects.pods,
      endpointSlices: objects.endpointSlices,
      slotLabel: this.settings.slotLabel,
    });
  }

  private deploymentView(
    cluster: string,
    d: KubeDeployment,
    objects: EntityObjects,
    byController: ByController,
  ): DeploymentView {
    const replicaSets = byController.replicaSets.get(d.metadata?.uid) ?? [];
    const pods = podsOf(d, byController)
      .map(podHealth)
      .sort((a, b) => a.pod.localeCompare(b.pod));
    const probes = analyzePodTemplateProbes(d.spec?.template, {
      longInitialDelaySeconds: this.settings.longInitialDelaySeconds,
    });
    const resources = containerResources(
      d.spec?.template,
      objects.limitRanges.filter(lr => ns(lr) === ns(d)),
    );
    const hpa = objects.hpas.find(
      h =>
        ns(h) === ns(d) &&
        h.spec?.scaleTargetRef.kind === 'Deployment' &&
        h.spec.scaleTargetRef.name === d.metadata?.name,
    );
    return {
      cluster,
      namespace: ns(d),
      name: d.metadata?.name ?? '',
      status: deriveRolloutStatus(d),
      probes,
      resources,
      pods,
      ...(hpa && { hpa: hpa.metadata?.name }),
      history: ownedReplicaSets(d, replicaSets).map(rs => ({
        revision:
          rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '',
        replicaSet: rs.metadata?.name ?? '',
        images: (rs.spec?.template?.spec?.containers ?? []).map(
          c => c.image ?? '',
        ),
      })),
      findings: [
        ...probes.flatMap(p => p.findings),
        ...resources.flatMap(r => r.findings),
        ...pods.flatMap(p => p.findings),
      ],
    };
  }

  /**
   * The entity's Flux environments. Whether Flux can be read is said here, not
   * among the kinds `unavailable`: most entities have no environments, and a
   * cluster without Flux is not missing anything they show.
   */
  private environments(
    cluster: RolloutsCluster,
    health: ClusterHealth,
    entityRef: string,
    selection: EntitySelection,
    objects: EntityObjects,
    byController: ByController,
  ): ClusterEnvironments {
    const flux =
      health.unavailable.find(u => u.kind === 'kustomizations')?.state ??
      'installed';
    return {
      flux,
      environments: deriveEnvironments(
        entityKustomizations(cluster, entityRef, selection),
        objects.deployments.map(deployment => ({
          deployment,
          pods: podsOf(deployment, byController),
        })),
      ),
    };
  }

  private clusterRollouts(
    cluster: RolloutsCluster,
    entityRef: string,
    selection: EntitySelection,
  ): ClusterRollouts {
    const health = cluster.health();
    const unavailable = health.unavailable.filter(
      u => u.kind !== 'kustomizations',
    );
    const base: ClusterRollouts = {
      cluster: cluster.name,
      state: health.state,
      ...(health.error && { error: health.error }),
      ...(health.staleSince !== undefined && {
        stale: { since: new Date(health.staleSince).toISOString() },
      }),
      ...(unavailable.length > 0 && { unavailable }),
      writes: cluster.writeAccess(),
      deployments: [],
      blueGreen: [],
      quotas: [],
      limitRanges: [],
      hpas: [],
      warningEvents: [],
    };
    // A cluster that is down but was synced keeps its last known state.
    if (health.state === 'error' && health.staleSince === undefined) {
      return base;
    }
    const objects = entityObjects(cluster, selection);
    // Grouped once, so each Deployment's view costs its own objects only.
    const byController: ByController = {
      replicaSets: groupByController(objects.replicaSets),
      pods: groupByController(objects.pods),
    };
    const warningEvents: WarningEvent[] = objects.events
      .map(e => ({
        namespace: ns(e),
        object: `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
        reason: e.reason,
        message: e.message,
        count: e.series?.count ?? e.count ?? 1,
        lastSeen: toIsoTime(
          e.series?.lastObservedTime ??
            e.lastTimestamp ??
            e.eventTime ??
            e.firstTimestamp,
        ),
      }))
      .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''))
      .slice(0, MAX_EVENTS);
    return {
      ...base,
      deployments: objects.deployments
        .map(d => this.deploymentView(cluster.name, d, objects, byController))
        .sort((a, b) =>
          `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
        ),
      blueGreen: this.blueGreen(objects),
      quotas: objects.quotas.map(summarizeQuota),
      limitRanges: objects.limitRanges.map(summarizeLimitRange),
      hpas: objects.hpas.map(summarizeHpa),
      warningEvents,
      gitops: this.environments(
        cluster,
        health,
        entityRef,
        selection,
        objects,
        byController,
      ),
    };
  }

  /** Rollout status of an entity in every cluster, from the caches. */
  getStatus(
    entityRef: string,
    selection: EntitySelection,
  ): EntityRolloutsResponse {
    return {
      entityRef,
      slotLabel: this.settings.slotLabel,
      generatedAt: new Date().toISOString(),
      clusters: this.clustersFor(selection).map(c =>
        this.clusterRollouts(c, entityRef, selection),
      ),
      skippedClusters: this.clusters.skipped(),
      liveUpdates: { keepaliveIntervalMs: this.settings.keepaliveIntervalMs },
    };
  }
}
