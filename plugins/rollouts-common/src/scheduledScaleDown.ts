import { ScaleUpStep } from './api';
import {
  BlueGreenService,
  detectBlueGreen,
  isPreviewService,
} from './blueGreen';
import { KubeDeployment, KubeService } from './kube';
import { canonicalEntityRef, ENTITY_REF_ANNOTATION } from './ownership';
import { isScaleDownDue, scaleDownState } from './scaleDown';

/**
 * What the scheduled task does with one Deployment:
 * - `none`: no scale-down scheduled, or not due yet;
 * - `scale-down`: due, and its slot is idle in every blue-green Service of its
 *   entity that it belongs to (`services`);
 * - `cancel`: due, but its slot is live again (switched back by a tool that
 *   does not know the schedule): the schedule is removed, the slot kept;
 * - `skip`: due, but it cannot be decided safely (`reason`); left as it is.
 *
 * @public
 */
export type ScheduledScaleDownDecision =
  | { action: 'none' }
  | { action: 'scale-down'; slot: string; services: string[] }
  | { action: 'cancel'; slot: string; reason: string }
  | { action: 'skip'; reason: string };

/** @public */
export interface ScheduledScaleDownInput {
  deployment: KubeDeployment;
  /** Services of the Deployment's namespace. */
  services: KubeService[];
  /** Deployments of the namespace (the other slots of its pairs); `deployment` replaces its own copy. */
  deployments: KubeDeployment[];
  slotLabel: string;
  /** Milliseconds since the epoch. */
  now: number;
}

/**
 * Decides whether a Deployment's scheduled scale-down runs now. Only
 * blue-green Services that name the same entity as the Deployment count, so
 * another entity's Service cannot keep a slot up or let it go down.
 *
 * @public
 */
export function decideScheduledScaleDown(
  input: ScheduledScaleDownInput,
): ScheduledScaleDownDecision {
  const { deployment, slotLabel } = input;
  const name = deployment.metadata?.name ?? '';
  const namespace = deployment.metadata?.namespace;
  const state = scaleDownState(deployment);
  if (state?.state === 'invalid') {
    return { action: 'skip', reason: state.reason };
  }
  if (!isScaleDownDue(state, input.now)) return { action: 'none' };

  const owner = canonicalEntityRef(
    deployment.metadata?.annotations?.[ENTITY_REF_ANNOTATION] ?? '',
  );
  if (!owner) {
    return {
      action: 'skip',
      reason: `Deployment ${namespace}/${name} names no entity in '${ENTITY_REF_ANNOTATION}'`,
    };
  }
  const services = input.services.filter(
    s =>
      s.metadata?.namespace === namespace &&
      !isPreviewService(s) &&
      canonicalEntityRef(
        s.metadata?.annotations?.[ENTITY_REF_ANNOTATION] ?? '',
      ) === owner,
  );
  // The Deployment as given (read fresh) replaces its cached copy.
  const deployments = [
    deployment,
    ...input.deployments.filter(
      d => d.metadata?.namespace === namespace && d.metadata?.name !== name,
    ),
  ];
  const pairs = detectBlueGreen({ services, deployments, slotLabel })
    .map(pair => ({
      pair,
      slot: pair.slots.find(s => s.deployment === name),
    }))
    .filter(p => p.slot !== undefined);
  if (pairs.length === 0) {
    return {
      action: 'skip',
      reason: `Deployment ${namespace}/${name} is not a slot of a blue-green Service of ${owner}, so nothing says it is idle`,
    };
  }
  const slot = pairs[0].slot!.slot;
  const liveIn = pairs.filter(p => p.pair.selectorSlot === p.slot!.slot);
  if (liveIn.length > 0) {
    return {
      action: 'cancel',
      slot,
      reason: `slot '${slot}' is live again in Service ${namespace}/${liveIn
        .map(p => p.pair.service)
        .join(', ')}`,
    };
  }
  return {
    action: 'scale-down',
    slot,
    services: pairs.map(p => p.pair.service),
  };
}

/**
 * The scale-up a rollback to `slot` needs first: set when its scheduled
 * scale-down ran (0 replicas, with the count to restore), so the rollback
 * scales it back up and waits for it instead of being refused.
 *
 * @public
 */
export function rollbackScaleUp(
  service: BlueGreenService,
  slot: string,
): ScaleUpStep | undefined {
  const target = service.slots.find(s => s.slot === slot);
  if (target?.scaleDown?.state !== 'scaled-down' || target.readyForTraffic) {
    return undefined;
  }
  return {
    slot,
    deployment: target.deployment,
    replicas: target.scaleDown.replicas,
  };
}
