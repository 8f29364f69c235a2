import { AuditorService, LoggerService } from '@backstage/backend-plugin-api';
import {
  decideScheduledScaleDown,
  ENTITY_REF_ANNOTATION,
  KubeDeployment,
  KubeService,
  pinnedPatch,
  planCancelScaleDown,
  planScaleDown,
  SCALE_DOWN_AT_ANNOTATION,
  ScheduledScaleDownDecision,
} from '@golden-path/plugin-rollouts-common';
import { toUserError } from '../clusters/kubeErrors';
import {
  ClusterWriter,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from '../clusters/types';
import { namespaceOf } from '../status/entityObjects';

/** What one run did with one Deployment whose scale-down was due. */
export interface ScaleDownOutcome {
  cluster: string;
  namespace: string;
  deployment: string;
  result: 'scaled-down' | 'cancelled' | 'skipped' | 'failed';
  reason?: string;
}

export interface ScheduledScaleDownTaskOptions {
  clusters: RolloutsClusterRegistry;
  auditor: AuditorService;
  logger: LoggerService;
  slotLabel: string;
  /** Milliseconds since the epoch (tests move time). */
  now?: () => number;
}

/** Id of the task in the Backstage scheduler. */
export const SCHEDULED_SCALE_DOWN_TASK_ID = 'rollouts-scheduled-scale-down';

/**
 * The scheduled scale-down of slots a switch left running for an instant
 * rollback (`scaleDownDelaySeconds`). Each run finds, in the cache, the
 * Deployments whose `rollouts.backstage.io/scale-down-at` is due; decides
 * from the Deployment and the Services read fresh whether the slot is still
 * idle in every blue-green Service of its entity; then scales it to 0 with one
 * patch pinned to its UID, owning entity, schedule, slot and replica count
 * (a rollback cancels the schedule before it moves traffic, so the two cannot
 * both win). A slot that is live again only loses its schedule. Every change
 * is audited. Runs only where writes use the plugin's own identity: there is
 * no user at that time.
 */
export class ScheduledScaleDownTask {
  private readonly now: () => number;

  constructor(private readonly options: ScheduledScaleDownTaskOptions) {
    this.now = options.now ?? Date.now;
  }

  async run(): Promise<ScaleDownOutcome[]> {
    const outcomes: ScaleDownOutcome[] = [];
    for (const cluster of this.options.clusters.list()) {
      outcomes.push(...(await this.runInCluster(cluster)));
    }
    return outcomes;
  }

  private decide(
    cluster: RolloutsCluster,
    deployment: KubeDeployment,
    services: readonly KubeService[],
  ): ScheduledScaleDownDecision {
    const namespace = namespaceOf(deployment);
    return decideScheduledScaleDown({
      deployment,
      services: services.filter(s => namespaceOf(s) === namespace),
      deployments: cluster.objects('deployments').inNamespace(namespace),
      slotLabel: this.options.slotLabel,
      now: this.now(),
    });
  }

  private async runInCluster(
    cluster: RolloutsCluster,
  ): Promise<ScaleDownOutcome[]> {
    const scheduled = cluster
      .list('deployments')
      .filter(
        d => d.metadata?.annotations?.[SCALE_DOWN_AT_ANNOTATION] !== undefined,
      );
    const due = scheduled.filter(
      d =>
        this.decide(
          cluster,
          d,
          cluster.objects('services').inNamespace(namespaceOf(d)),
        ).action !== 'none',
    );
    if (due.length === 0) return [];
    const outcome = (
      d: KubeDeployment,
      result: ScaleDownOutcome['result'],
      reason?: string,
    ): ScaleDownOutcome => ({
      cluster: cluster.name,
      namespace: namespaceOf(d),
      deployment: d.metadata?.name ?? '',
      result,
      ...(reason && { reason }),
    });
    const access = cluster.writeAccess();
    if (cluster.health().state !== 'ok' || access.mode !== 'plugin') {
      const reason =
        access.mode === 'plugin'
          ? `cluster '${cluster.name}' is not synced`
          : `writes in cluster '${cluster.name}' do not use the rollouts plugin's own identity`;
      this.options.logger.warn('scheduled scale-down not run', {
        cluster: cluster.name,
        reason,
        deployments: due
          .map(d => `${namespaceOf(d)}/${d.metadata?.name}`)
          .join(', '),
      });
      return due.map(d => outcome(d, 'skipped', reason));
    }
    const api = cluster.writer();
    const outcomes: ScaleDownOutcome[] = [];
    for (const cached of due) {
      outcomes.push(
        await this.scaleDownOne(cluster, api, cached).catch((error: Error) =>
          outcome(cached, 'failed', error.message),
        ),
      );
    }
    return outcomes;
  }

  /** Decides again from the Deployment and its Services read fresh, then patches. */
  private async scaleDownOne(
    cluster: RolloutsCluster,
    api: ClusterWriter,
    cached: KubeDeployment,
  ): Promise<ScaleDownOutcome> {
    const namespace = namespaceOf(cached);
    const name = cached.metadata?.name ?? '';
    const base = { cluster: cluster.name, namespace, deployment: name };
    const deployment = await api.getDeployment(namespace, name);
    const cachedServices = cluster.objects('services').inNamespace(namespace);
    const services = await Promise.all(
      cachedServices.map(s =>
        api
          .getService(namespace, s.metadata?.name ?? '')
          .catch(() => undefined),
      ),
    );
    const decision = this.decide(
      cluster,
      deployment,
      services.filter((s): s is KubeService => s !== undefined),
    );
    if (decision.action === 'none') {
      return { ...base, result: 'skipped', reason: 'no longer due' };
    }
    if (decision.action === 'skip') {
      this.options.logger.warn('scheduled scale-down skipped', {
        ...base,
        reason: decision.reason,
      });
      return { ...base, result: 'skipped', reason: decision.reason };
    }
    const plan =
      decision.action === 'scale-down'
        ? planScaleDown(deployment, this.options.slotLabel)
        : planCancelScaleDown(deployment);
    if (!plan.allowed) {
      return { ...base, result: 'skipped', reason: plan.reason };
    }
    const entityRef =
      deployment.metadata?.annotations?.[ENTITY_REF_ANNOTATION] ?? '';
    const event = await this.options.auditor.createEvent({
      eventId: 'traffic-scale-down',
      severityLevel: 'medium',
      meta: {
        entityRef,
        cluster: cluster.name,
        namespace,
        deployment: name,
        slot: decision.slot,
        action: decision.action,
        scheduledFor:
          deployment.metadata?.annotations?.[SCALE_DOWN_AT_ANNOTATION] ?? '',
        replicas: deployment.spec?.replicas ?? 1,
        ...(decision.action === 'cancel' && { reason: decision.reason }),
      },
    });
    try {
      await api.patchDeployment(
        namespace,
        name,
        pinnedPatch(deployment, { annotationValue: entityRef }, plan.patch),
      );
    } catch (error) {
      const userError = toUserError(
        error,
        `Scaling down Deployment ${namespace}/${name}`,
        { logger: this.options.logger, identity: 'plugin' },
      );
      await event.fail({ error: userError });
      return { ...base, result: 'failed', reason: userError.message };
    }
    await event.success();
    const result =
      decision.action === 'scale-down' ? 'scaled-down' : 'cancelled';
    this.options.logger.info(`scheduled scale-down ${result}`, {
      ...base,
      entityRef,
      ...(decision.action === 'cancel' && { reason: decision.reason }),
    });
    return {
      ...base,
      result,
      ...(decision.action === 'cancel' && { reason: decision.reason }),
    };
  }
}
