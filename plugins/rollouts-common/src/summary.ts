/*
 * The Rollouts tab's summary: one row per workload that says at a glance
 * whether it is fine and, if not, why. Each rule below turns one source (the
 * rollout status, pod health, restarts, quota, the HPA, the blue-green pair)
 * into signals; the worst signal is the workload's state.
 */
import { ClusterRollouts, DeploymentView } from './api';
import { BlueGreenService, BlueGreenSlot } from './blueGreen';
import { HpaSummary, QuotaSummary } from './resources';
import { RolloutStatus } from './rolloutStatus';
import { SlotScaleDown } from './scaleDown';

/**
 * A workload's state, in the terms Argo CD and Headlamp use.
 *
 * - `failed`: it does not serve (the rollout hit its deadline, or no replica
 *   is ready while pods crash or cannot pull their image);
 * - `degraded`: it serves, below what it should (replicas missing, pods
 *   crashing, the live blue-green slot not ready);
 * - `progressing`: a rollout is under way;
 * - `paused`: the Deployment is paused, template changes wait;
 * - `at-risk`: it serves fully, but the next rollout or load peak may not fit
 *   (quota nearly used, HPA at its maximum, repeated restarts, past kills);
 * - `scaled-to-zero`: it runs no replica on purpose (an idle slot);
 * - `healthy`: every desired replica is ready and nothing above applies.
 *
 * @public
 */
export type WorkloadState =
  | 'failed'
  | 'degraded'
  | 'progressing'
  | 'paused'
  | 'at-risk'
  | 'scaled-to-zero'
  | 'healthy';

/** Worst first: a workload takes the first state any of its signals has. */
const STATE_ORDER: WorkloadState[] = [
  'failed',
  'degraded',
  'progressing',
  'paused',
  'at-risk',
  'scaled-to-zero',
  'healthy',
];

/** The colour family a state is shown in (the page maps it to its theme). @public */
export type StateTone = 'danger' | 'warning' | 'info' | 'success' | 'neutral';

/** How each state is labelled and coloured. @public */
export const WORKLOAD_STATE_DISPLAY: Record<
  WorkloadState,
  { label: string; tone: StateTone }
> = {
  failed: { label: 'Failed', tone: 'danger' },
  degraded: { label: 'Degraded', tone: 'danger' },
  progressing: { label: 'Progressing', tone: 'info' },
  paused: { label: 'Paused', tone: 'warning' },
  'at-risk': { label: 'At risk', tone: 'warning' },
  'scaled-to-zero': { label: 'Scaled to zero', tone: 'neutral' },
  healthy: { label: 'Healthy', tone: 'success' },
};

/**
 * Quota use from this percentage on puts a workload at risk: a rolling update
 * creates surge pods on top of the running ones, and an HPA scale-up adds
 * more, so a namespace at 90% rarely has room for either.
 *
 * @public
 */
export const QUOTA_PRESSURE_PERCENT = 90;

/**
 * Restarts (summed over the current pods' containers) from which a workload is
 * at risk: one or two happen on node maintenance or a slow start; a pattern
 * means the containers crash or fail their liveness probe.
 *
 * @public
 */
export const RESTARTS_AT_RISK = 3;

/** One reason for a workload's state. @public */
export interface SummarySignal {
  state: WorkloadState;
  text: string;
}

/** The most used resource of a ResourceQuota in the workload's namespace. @public */
export interface QuotaUse {
  quota: string;
  resource: string;
  used: string;
  hard: string;
  percent: number;
  /** At or above {@link QUOTA_PRESSURE_PERCENT}. */
  pressure: boolean;
}

/** The workload's place in a blue-green pair. @public */
export interface WorkloadSlot {
  service: string;
  slot: string;
  /** The Service sends its traffic to this slot. */
  live: boolean;
  /** A scale-down after a switch away from this slot (scheduled or done). */
  scaleDown?: SlotScaleDown;
}

/** One row of the summary. @public */
export interface WorkloadSummary {
  /** `cluster/namespace/name`, unique on the page. */
  id: string;
  cluster: string;
  namespace: string;
  name: string;
  state: WorkloadState;
  /** Why the workload is in its state, worst first: never empty. */
  signals: SummarySignal[];
  ready: number;
  desired: number;
  restarts: number;
  /** The most used quota resource in the namespace, if it has a quota. */
  quota?: QuotaUse;
  /** The HPA scaling the workload, if any. */
  hpa?: { name: string; atMax: boolean; maxReplicas: number };
  slots: WorkloadSlot[];
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Where the rollout stands, from the `kubectl rollout status` derivation. */
function rolloutSignals(status: RolloutStatus): SummarySignal[] {
  if (status.phase === 'failed') {
    return [
      {
        state: 'failed',
        text: `The rollout exceeded its progress deadline: ${status.available} of ${status.desired} replicas available.`,
      },
    ];
  }
  if (status.paused) {
    return [
      {
        state: 'paused',
        text: 'The Deployment is paused: template changes wait until it is resumed.',
      },
    ];
  }
  switch (status.phase) {
    case 'waiting-for-spec-update':
      return [
        {
          state: 'progressing',
          text: 'The Deployment controller has not seen the latest change yet.',
        },
      ];
    case 'updating-replicas':
      return [
        {
          state: 'progressing',
          text: `Rolling out: ${status.updated} of ${status.desired} replicas updated.`,
        },
      ];
    case 'terminating-old-replicas':
      return [
        {
          state: 'progressing',
          text: `Rolling out: ${plural(
            status.current - status.updated,
            'old replica',
          )} still terminating.`,
        },
      ];
    case 'waiting-for-available':
      return [
        {
          state: 'progressing',
          text: `Rolling out: ${status.available} of ${status.updated} updated replicas available.`,
        },
      ];
    default:
      break;
  }
  if (status.desired === 0) {
    return [{ state: 'scaled-to-zero', text: 'Scaled to 0 replicas.' }];
  }
  if (status.ready < status.desired) {
    return [
      {
        state: 'degraded',
        text: `Only ${status.ready} of ${status.desired} replicas are ready.`,
      },
    ];
  }
  return [];
}

const WAITING_TEXT: Record<string, string> = {
  CrashLoopBackOff: 'keeps crashing (CrashLoopBackOff)',
  ImagePullBackOff: 'cannot pull its image (ImagePullBackOff)',
  ErrImagePull: 'cannot pull its image (ErrImagePull)',
};

/**
 * Containers stuck crashing or pulling, and containers killed in their last
 * run, counted over the pods. Stuck containers fail the workload when no
 * replica is ready (nothing serves), else degrade it; past kills put it at risk.
 */
function podSignals(deployment: DeploymentView): SummarySignal[] {
  const stuck = new Map<string, number>();
  const killed = new Map<string, number>();
  const count = (m: Map<string, number>, key: string) =>
    m.set(key, (m.get(key) ?? 0) + 1);
  for (const container of deployment.pods.flatMap(p => p.containers)) {
    const waiting =
      container.waitingReason && WAITING_TEXT[container.waitingReason];
    if (waiting) count(stuck, `${container.container} ${waiting}`);
    if (container.oomKilled) {
      count(killed, `${container.container} was OOMKilled in its last run`);
    } else if (container.lastExitCode === 137) {
      count(
        killed,
        `${container.container} was killed (exit 137) in its last run`,
      );
    }
  }
  const { ready, desired } = deployment.status;
  const stuckState: WorkloadState =
    ready === 0 && desired > 0 ? 'failed' : 'degraded';
  const inPods = (n: number) => ` in ${plural(n, 'pod')}.`;
  return [
    ...[...stuck].map(([text, n]) => ({
      state: stuckState,
      text: text + inPods(n),
    })),
    ...[...killed].map(([text, n]) => ({
      state: 'at-risk' as const,
      text: text + inPods(n),
    })),
  ];
}

/** Restarts summed over the current pods' containers. */
function totalRestarts(deployment: DeploymentView): number {
  return deployment.pods
    .flatMap(p => p.containers)
    .reduce((sum, c) => sum + c.restartCount, 0);
}

function restartSignals(restarts: number): SummarySignal[] {
  return restarts >= RESTARTS_AT_RISK
    ? [
        {
          state: 'at-risk',
          text: `Containers restarted ${restarts} times.`,
        },
      ]
    : [];
}

/** The most used resource over the namespace's quotas. */
function highestQuotaUse(
  namespace: string,
  quotas: QuotaSummary[],
): QuotaUse | undefined {
  let highest: QuotaUse | undefined;
  for (const quota of quotas.filter(q => q.namespace === namespace)) {
    for (const usage of quota.usages) {
      if (usage.percent === undefined) continue;
      if (highest && highest.percent >= usage.percent) continue;
      highest = {
        quota: quota.name,
        resource: usage.resource,
        used: usage.used,
        hard: usage.hard,
        percent: usage.percent,
        pressure: usage.percent >= QUOTA_PRESSURE_PERCENT,
      };
    }
  }
  return highest;
}

function quotaSignals(quota: QuotaUse | undefined): SummarySignal[] {
  if (!quota?.pressure) return [];
  const room =
    quota.percent >= 100
      ? 'no pod that needs more can start'
      : 'a rollout or scale-up may not fit';
  return [
    {
      state: 'at-risk',
      text: `Quota ${quota.quota}: ${quota.resource} ${quota.percent}% used (${quota.used} of ${quota.hard}), ${room}.`,
    },
  ];
}

/** The HPA that scales this Deployment (by its target, or by the view's name). */
function hpaOf(
  deployment: DeploymentView,
  hpas: HpaSummary[],
): HpaSummary | undefined {
  return hpas.find(
    h =>
      h.namespace === deployment.namespace &&
      ((h.target.kind === 'Deployment' && h.target.name === deployment.name) ||
        h.name === deployment.hpa),
  );
}

function hpaSignals(hpa: HpaSummary | undefined): SummarySignal[] {
  return hpa?.atMax
    ? [
        {
          state: 'at-risk',
          text: `HPA ${hpa.name} is at its maximum of ${hpa.maxReplicas} replicas: more load cannot be absorbed.`,
        },
      ]
    : [];
}

/** The Deployment's slots in the cluster's blue-green pairs, with their Service. */
function pairSlotsOf(
  deployment: DeploymentView,
  pairs: BlueGreenService[],
): { service: string; slot: BlueGreenSlot }[] {
  return pairs
    .filter(pair => pair.namespace === deployment.namespace)
    .flatMap(pair =>
      pair.slots
        .filter(slot => slot.deployment === deployment.name)
        .map(slot => ({ service: pair.service, slot })),
    );
}

function workloadSlot(service: string, s: BlueGreenSlot): WorkloadSlot {
  return {
    service,
    slot: s.slot,
    live: s.live,
    ...(s.scaleDown && { scaleDown: s.scaleDown }),
  };
}

/** A live slot that cannot take traffic degrades the workload that has it. */
function slotSignals(service: string, s: BlueGreenSlot): SummarySignal[] {
  if (!s.live || s.readyForTraffic) return [];
  return [
    {
      state: 'degraded',
      text: `Live slot ${s.slot} of Service ${service} is not ready for traffic: ${s.notReadyReason}.`,
    },
  ];
}

function bySeverity(a: SummarySignal, b: SummarySignal): number {
  return STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state);
}

/**
 * One summary row for a Deployment, given its cluster's quotas, HPAs and
 * blue-green pairs.
 *
 * @public
 */
export function summarizeWorkload(
  deployment: DeploymentView,
  cluster: Pick<ClusterRollouts, 'quotas' | 'hpas' | 'blueGreen'>,
): WorkloadSummary {
  const restarts = totalRestarts(deployment);
  const quota = highestQuotaUse(deployment.namespace, cluster.quotas);
  const hpa = hpaOf(deployment, cluster.hpas);
  const pairSlots = pairSlotsOf(deployment, cluster.blueGreen);
  const signals = [
    ...rolloutSignals(deployment.status),
    ...podSignals(deployment),
    ...pairSlots.flatMap(p => slotSignals(p.service, p.slot)),
    ...restartSignals(restarts),
    ...quotaSignals(quota),
    ...hpaSignals(hpa),
  ].sort(bySeverity);
  const { ready, desired } = deployment.status;
  if (signals.length === 0) {
    signals.push({
      state: 'healthy',
      text: `All ${plural(desired, 'replica')} ready.`,
    });
  }
  // Worst first, so the first signal's state is the workload's.
  return {
    id: `${deployment.cluster}/${deployment.namespace}/${deployment.name}`,
    cluster: deployment.cluster,
    namespace: deployment.namespace,
    name: deployment.name,
    state: signals[0].state,
    signals,
    ready,
    desired,
    restarts,
    ...(quota && { quota }),
    ...(hpa && {
      hpa: { name: hpa.name, atMax: hpa.atMax, maxReplicas: hpa.maxReplicas },
    }),
    slots: pairSlots.map(p => workloadSlot(p.service, p.slot)),
  };
}

/**
 * The summary rows of a cluster, worst state first (then by name), so what
 * needs attention is on top.
 *
 * @public
 */
export function summarizeCluster(cluster: ClusterRollouts): WorkloadSummary[] {
  return cluster.deployments
    .map(d => summarizeWorkload(d, cluster))
    .sort(
      (a, b) =>
        STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) ||
        a.namespace.localeCompare(b.namespace) ||
        a.name.localeCompare(b.name),
    );
}
