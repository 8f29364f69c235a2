import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  analyzePodTemplateProbes,
  BlueGreenService,
  ClusterRollouts,
  containerResources,
  deriveRolloutStatus,
  detectBlueGreen,
  DeploymentActionRequest,
  DeploymentView,
  EntityRolloutsResponse,
  KubeDeployment,
  KubeObject,
  ownedReplicaSets,
  planRollback,
  planSwitch,
  planUndo,
  podHealth,
  RestartDeploymentResponse,
  RollbackTrafficRequest,
  SERVICE_NAME_LABEL,
  summarizeHpa,
  summarizeLimitRange,
  summarizeQuota,
  SwitchPlan,
  SwitchTrafficRequest,
  SwitchTrafficResponse,
  toIsoTime,
  trafficConverged,
  UndoDeploymentRequest,
  UndoDeploymentResponse,
  UndoPlan,
  WarningEvent,
} from '@internal/plugin-rollouts-common';
import { toBackstageError } from './clusters/kubeErrors';
import {
  ResourceTypes,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from './clusters/types';
import { EntitySelection, selects } from './entitySelection';

/** Settings of the rollouts backend (from `rollouts.*` config). */
export interface RolloutsSettings {
  slotLabel: string;
  switchTimeoutMs: number;
  longInitialDelaySeconds: number;
}

const MAX_EVENTS = 50;
const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** Everything one cluster holds for one entity. */
interface EntityObjects {
  deployments: ResourceTypes['deployments'][];
  replicaSets: ResourceTypes['replicasets'][];
  pods: ResourceTypes['pods'][];
  services: ResourceTypes['services'][];
  endpointSlices: ResourceTypes['endpointslices'][];
  quotas: ResourceTypes['resourcequotas'][];
  limitRanges: ResourceTypes['limitranges'][];
  hpas: ResourceTypes['horizontalpodautoscalers'][];
  events: ResourceTypes['events'][];
  namespaces: Set<string>;
}

const ns = (o: KubeObject) => o.metadata?.namespace ?? '';
const controllerUid = (o: KubeObject) =>
  o.metadata?.ownerReferences?.find(r => r.controller)?.uid;

/**
 * Reads an entity's rollouts from the cluster caches and performs the writes
 * (switch, rollback, restart, undo). Authorization happens in the router.
 */
export class RolloutsService {
  constructor(
    private readonly clusters: RolloutsClusterRegistry,
    private readonly settings: RolloutsSettings,
    private readonly logger: LoggerService,
  ) {}

  /** The clusters an entity may live in. */
  clustersFor(selection: EntitySelection): RolloutsCluster[] {
    return this.clusters
      .list()
      .filter(c => !selection.cluster || c.name === selection.cluster);
  }

  /** Collects an entity's objects in one cluster from the cache. */
  objectsFor(
    cluster: RolloutsCluster,
    selection: EntitySelection,
  ): EntityObjects {
    const deployments = cluster
      .list('deployments')
      .filter(d => selects(selection, d));
    const deploymentUids = new Set(deployments.map(d => d.metadata?.uid));
    const replicaSets = cluster
      .list('replicasets')
      .filter(rs => deploymentUids.has(controllerUid(rs)));
    const rsUids = new Set(replicaSets.map(rs => rs.metadata?.uid));
    const pods = cluster
      .list('pods')
      .filter(p => rsUids.has(controllerUid(p)) || selects(selection, p));
    const services = cluster
      .list('services')
      .filter(s => selects(selection, s));
    const namespaces = new Set<string>([
      ...deployments.map(ns),
      ...services.map(ns),
    ]);
    if (selection.namespace) namespaces.add(selection.namespace);
    const serviceKeys = new Set(
      services.map(s => `${ns(s)}/${s.metadata?.name}`),
    );
    const endpointSlices = cluster
      .list('endpointslices')
      .filter(es =>
        serviceKeys.has(
          `${ns(es)}/${es.metadata?.labels?.[SERVICE_NAME_LABEL]}`,
        ),
      );
    const deploymentKeys = new Set(
      deployments.map(d => `${ns(d)}/${d.metadata?.name}`),
    );
    const hpas = cluster
      .list('horizontalpodautoscalers')
      .filter(
        h =>
          selects(selection, h) ||
          (h.spec?.scaleTargetRef.kind === 'Deployment' &&
            deploymentKeys.has(`${ns(h)}/${h.spec.scaleTargetRef.name}`)),
      );
    const inNamespaces = (o: KubeObject) => namespaces.has(ns(o));
    const objectUids = new Set(
      [...deployments, ...replicaSets, ...pods, ...services, ...hpas].map(
        o => o.metadata?.uid,
      ),
    );
    const events = cluster
      .list('events')
      .filter(
        e => e.involvedObject?.uid && objectUids.has(e.involvedObject.uid),
      );
    return {
      deployments,
      replicaSets,
      pods,
      services,
      endpointSlices,
      quotas: cluster.list('resourcequotas').filter(inNamespaces),
      limitRanges: cluster.list('limitranges').filter(inNamespaces),
      hpas,
      events,
      namespaces,
    };
  }

  private deploymentView(
    cluster: string,
    d: KubeDeployment,
    objects: EntityObjects,
  ): DeploymentView {
    const uid = d.metadata?.uid;
    const rsUids = new Set(
      objects.replicaSets
        .filter(rs => controllerUid(rs) === uid)
        .map(rs => rs.metadata?.uid),
    );
    const pods = objects.pods
      .filter(p => rsUids.has(controllerUid(p)))
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
      history: ownedReplicaSets(d, objects.replicaSets).map(rs => ({
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

  private blueGreen(objects: EntityObjects): BlueGreenService[] {
    return detectBlueGreen({
      services: objects.services,
      deployments: objects.deployments,
      pods: objects.pods,
      endpointSlices: objects.endpointSlices,
      slotLabel: this.settings.slotLabel,
    });
  }

  /** Rollout status of an entity in every cluster, from the caches. */
  getStatus(
    entityRef: string,
    selection: EntitySelection,
  ): EntityRolloutsResponse {
    const clusters: ClusterRollouts[] = this.clustersFor(selection).map(
      cluster => {
        const health = cluster.health();
        const empty: ClusterRollouts = {
          cluster: cluster.name,
          state: health.state,
          ...(health.error && { error: health.error }),
          deployments: [],
          blueGreen: [],
          quotas: [],
          limitRanges: [],
          hpas: [],
          warningEvents: [],
        };
        if (health.state === 'error') {
          return empty;
        }
        const objects = this.objectsFor(cluster, selection);
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
          ...empty,
          deployments: objects.deployments
            .map(d => this.deploymentView(cluster.name, d, objects))
            .sort((a, b) =>
              `${a.namespace}/${a.name}`.localeCompare(
                `${b.namespace}/${b.name}`,
              ),
            ),
          blueGreen: this.blueGreen(objects),
          quotas: objects.quotas.map(summarizeQuota),
          limitRanges: objects.limitRanges.map(summarizeLimitRange),
          hpas: objects.hpas.map(summarizeHpa),
          warningEvents,
        };
      },
    );
    return {
      entityRef,
      slotLabel: this.settings.slotLabel,
      generatedAt: new Date().toISOString(),
      clusters,
    };
  }

  /** The cluster of a write, which must be known, reachable and synced. */
  private writableCluster(
    name: string,
    selection: EntitySelection,
  ): RolloutsCluster {
    if (selection.cluster && selection.cluster !== name) {
      throw new NotFoundError(
        `The entity is restricted to cluster '${selection.cluster}', not '${name}'`,
      );
    }
    const cluster = this.clusters.get(name);
    if (!cluster) {
      throw new NotFoundError(`Unknown cluster '${name}'`);
    }
    const health = cluster.health();
    if (health.state !== 'ok') {
      throw new ServiceUnavailableError(
        `Cluster '${name}' is ${
          health.state === 'syncing' ? 'still loading its cache' : 'unavailable'
        }${health.error ? `: ${health.error}` : ''}`,
      );
    }
    return cluster;
  }

  private blueGreenService(
    cluster: RolloutsCluster,
    selection: EntitySelection,
    namespace: string,
    service: string,
  ): BlueGreenService {
    const objects = this.objectsFor(cluster, selection);
    if (
      !objects.services.some(
        s => ns(s) === namespace && s.metadata?.name === service,
      )
    ) {
      throw new NotFoundError(
        `Service ${namespace}/${service} does not belong to this entity in cluster '${cluster.name}'`,
      );
    }
    const bg = this.blueGreen(objects).find(
      b => b.namespace === namespace && b.service === service,
    );
    if (!bg) {
      throw new InputError(
        `Service ${namespace}/${service} is not blue-green: its selector has no '${this.settings.slotLabel}' label`,
      );
    }
    return bg;
  }

  private async executeSwitch(
    cluster: RolloutsCluster,
    selection: EntitySelection,
    bg: BlueGreenService,
    plan: SwitchPlan,
  ): Promise<SwitchTrafficResponse> {
    if (!plan.allowed) {
      if (plan.code === 'unknown-slot') {
        throw new InputError(plan.reason);
      }
      throw new ConflictError(plan.reason);
    }
    const started = Date.now();
    try {
      await cluster.patchService(bg.namespace, bg.service, plan.patch);
    } catch (e) {
      throw toBackstageError(
        e,
        `Switching Service ${bg.namespace}/${bg.service} from '${plan.from}' to '${plan.to}'`,
      );
    }
    const converged = await this.waitFor(
      cluster,
      () => {
        const current = this.blueGreen(
          this.objectsFor(cluster, selection),
        ).find(b => b.namespace === bg.namespace && b.service === bg.service);
        return (
          current !== undefined &&
          current.selectorSlot === plan.to &&
          trafficConverged(current, plan.to)
        );
      },
      this.settings.switchTimeoutMs,
    );
    const elapsedMs = Date.now() - started;
    this.logger.info(
      `Switched ${cluster.name}/${bg.namespace}/${bg.service} from ${
        plan.from
      } to ${plan.to}; endpoints ${
        converged ? 'converged' : 'did not converge'
      } after ${elapsedMs} ms`,
    );
    return {
      cluster: cluster.name,
      namespace: bg.namespace,
      service: bg.service,
      from: plan.from,
      to: plan.to,
      endpointsConverged: converged,
      elapsedMs,
    };
  }

  /** Resolves true as soon as `predicate` holds, false after the timeout. */
  private waitFor(
    cluster: RolloutsCluster,
    predicate: () => boolean,
    timeoutMs: number,
  ): Promise<boolean> {
    return new Promise(resolve => {
      if (predicate()) {
        resolve(true);
        return;
      }
      let done = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      let unsubscribe: (() => void) | undefined = undefined;
      const finish = (value: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe?.();
        resolve(value);
      };
      unsubscribe = cluster.subscribe(change => {
        if (
          change.kind === 'endpointslices' ||
          change.kind === 'pods' ||
          change.kind === 'services'
        ) {
          if (predicate()) finish(true);
        }
      });
      timer = setTimeout(() => finish(predicate()), timeoutMs);
    });
  }

  /** Switches a blue-green Service to `targetSlot` and waits for its endpoints. */
  async switchTraffic(
    selection: EntitySelection,
    request: SwitchTrafficRequest,
  ): Promise<SwitchTrafficResponse> {
    const cluster = this.writableCluster(request.cluster, selection);
    const bg = this.blueGreenService(
      cluster,
      selection,
      request.namespace,
      request.service,
    );
    const plan = planSwitch(bg, request.targetSlot, {
      expectedCurrentSlot: request.expectedCurrentSlot,
    });
    return this.executeSwitch(cluster, selection, bg, plan);
  }

  /** Switches a blue-green Service back to the slot recorded by the last switch. */
  async rollbackTraffic(
    selection: EntitySelection,
    request: RollbackTrafficRequest,
  ): Promise<SwitchTrafficResponse> {
    const cluster = this.writableCluster(request.cluster, selection);
    const bg = this.blueGreenService(
      cluster,
      selection,
      request.namespace,
      request.service,
    );
    const plan = planRollback(bg, {
      expectedCurrentSlot: request.expectedCurrentSlot,
    });
    return this.executeSwitch(cluster, selection, bg, plan);
  }

  private cachedDeployment(
    cluster: RolloutsCluster,
    selection: EntitySelection,
    request: DeploymentActionRequest,
  ): KubeDeployment {
    const d = cluster
      .list('deployments')
      .find(
        x =>
          ns(x) === request.namespace &&
          x.metadata?.name === request.deployment &&
          selects(selection, x),
      );
    if (!d) {
      throw new NotFoundError(
        `Deployment ${request.namespace}/${request.deployment} does not belong to this entity in cluster '${cluster.name}'`,
      );
    }
    return d;
  }

  /** `kubectl rollout restart`: bumps the restartedAt annotation of the pod template. */
  async restartDeployment(
    selection: EntitySelection,
    request: DeploymentActionRequest,
  ): Promise<RestartDeploymentResponse> {
    const cluster = this.writableCluster(request.cluster, selection);
    const d = this.cachedDeployment(cluster, selection, request);
    if (d.spec?.paused) {
      throw new ConflictError(
        `Deployment ${request.deployment} is paused; resume it before restarting`,
      );
    }
    const restartedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await cluster.patchDeployment(
        request.namespace,
        request.deployment,
        {
          spec: {
            template: {
              metadata: {
                annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt },
              },
            },
          },
        },
        'merge',
      );
    } catch (e) {
      throw toBackstageError(
        e,
        `Restarting Deployment ${request.namespace}/${request.deployment}`,
      );
    }
    return {
      cluster: cluster.name,
      namespace: request.namespace,
      deployment: request.deployment,
      restartedAt,
    };
  }

  /** `kubectl rollout undo`: restores the pod template of an earlier revision. */
  async undoDeployment(
    selection: EntitySelection,
    request: UndoDeploymentRequest,
  ): Promise<UndoDeploymentResponse> {
    const cluster = this.writableCluster(request.cluster, selection);
    this.cachedDeployment(cluster, selection, request);
    const action = `Rolling back Deployment ${request.namespace}/${request.deployment}`;
    let plan: UndoPlan;
    try {
      // Read fresh state: the patch must be based on what the server has now.
      const [deployment, replicaSets] = await Promise.all([
        cluster.getDeployment(request.namespace, request.deployment),
        cluster.listReplicaSets(request.namespace),
      ]);
      plan = planUndo(deployment, replicaSets, request.toRevision);
    } catch (e) {
      throw toBackstageError(e, action);
    }
    if (!plan.allowed) {
      if (plan.code === 'unknown-revision') throw new InputError(plan.reason);
      throw new ConflictError(plan.reason);
    }
    if (!plan.skipped) {
      try {
        await cluster.patchDeployment(
          request.namespace,
          request.deployment,
          plan.patch,
          'json',
        );
      } catch (e) {
        throw toBackstageError(e, action);
      }
    }
    return {
      cluster: cluster.name,
      namespace: request.namespace,
      deployment: request.deployment,
      fromRevision: plan.fromRevision,
      toRevision: plan.toRevision,
      skipped: plan.skipped,
    };
  }
}
