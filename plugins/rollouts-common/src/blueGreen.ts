import {
  KubeDeployment,
  KubeEndpointSlice,
  KubePod,
  KubeService,
} from './kube';
import { JsonPatchOperation, jsonPointer } from './jsonPatch';
import { deriveRolloutStatus, RolloutStatus } from './rolloutStatus';

/** Default label whose value names a slot (`blue`, `green`...). @public */
export const DEFAULT_SLOT_LABEL = 'app.kubernetes.io/slot';

/** Service annotation where a switch records the slot it switched away from. @public */
export const PREVIOUS_SLOT_ANNOTATION = 'rollouts.backstage.io/previous-slot';

/** Label the EndpointSlice controller puts on the slices of a Service. @public */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** @public */
export interface BlueGreenSlot {
  slot: string;
  deployment: string;
  live: boolean;
  images: { container: string; image: string }[];
  revision?: string;
  rollout: Pick<
    RolloutStatus,
    | 'phase'
    | 'message'
    | 'complete'
    | 'desired'
    | 'updated'
    | 'ready'
    | 'available'
  >;
  /** Fully rolled out, every desired replica available, at least one replica. */
  readyForTraffic: boolean;
  notReadyReason?: string;
  /** Ready endpoints of the Service's EndpointSlices that are this slot's pods. */
  readyEndpoints: number;
}

/** @public */
export interface BlueGreenService {
  namespace: string;
  service: string;
  slotLabel: string;
  /** Slot named in the Service selector, if any Deployment has it. */
  liveSlot?: string;
  /** Raw selector value (may name a slot with no Deployment). */
  selectorSlot: string;
  /** Slot recorded by the last switch, the rollback target. */
  previousSlot?: string;
  slots: BlueGreenSlot[];
  /** Slots the EndpointSlices send traffic to right now (ready endpoints). */
  trafficSlots: string[];
  /** Ready endpoints whose pod has no slot label or is unknown. */
  unknownEndpoints: number;
  problems: string[];
  /** Whether `metadata.annotations` exists on the Service (for the patch). */
  hasAnnotations: boolean;
}

/** @public */
export interface DetectBlueGreenInput {
  services: KubeService[];
  deployments: KubeDeployment[];
  pods?: KubePod[];
  endpointSlices?: KubeEndpointSlice[];
  slotLabel?: string;
}

function withoutKey(m: Record<string, string>, key: string) {
  const copy = { ...m };
  delete copy[key];
  return copy;
}

function slotReadiness(status: RolloutStatus): string | undefined {
  if (status.paused) {
    return 'the Deployment is paused';
  }
  if (!status.complete) {
    return status.message;
  }
  if (status.desired < 1) {
    return 'the Deployment is scaled to 0 replicas';
  }
  if (status.available < status.desired) {
    return `only ${status.available} of ${status.desired} replicas are available`;
  }
  return undefined;
}

/**
 * Counts ready endpoints of a Service per slot, using the slot label of the
 * pods the endpoints point at.
 *
 * @public
 */
export function endpointsBySlot(
  namespace: string,
  service: string,
  endpointSlices: KubeEndpointSlice[],
  pods: KubePod[],
  slotLabel: string,
): { bySlot: Record<string, number>; unknown: number } {
  const podSlots = new Map<string, string | undefined>();
  for (const pod of pods) {
    if (pod.metadata?.namespace === namespace && pod.metadata.name) {
      podSlots.set(pod.metadata.name, pod.metadata.labels?.[slotLabel]);
    }
  }
  const bySlot: Record<string, number> = {};
  let unknown = 0;
  const seen = new Set<string>();
  for (const slice of endpointSlices) {
    if (
      slice.metadata?.namespace !== namespace ||
      slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== service
    ) {
      continue;
    }
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const podName =
        ep.targetRef?.kind === 'Pod' ? ep.targetRef.name : undefined;
      const key = podName ?? ep.addresses.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      const slot = podName ? podSlots.get(podName) : undefined;
      if (slot === undefined) {
        unknown++;
      } else {
        bySlot[slot] = (bySlot[slot] ?? 0) + 1;
      }
    }
  }
  return { bySlot, unknown };
}

/**
 * Finds blue-green pairs: a Service whose selector includes the slot label, and
 * Deployments in its namespace whose pod template labels match the rest of the
 * selector and differ from each other only in the slot label's value. Reports
 * which slot is live, what each runs and whether the idle one can take traffic.
 *
 * @public
 */
export function detectBlueGreen(
  input: DetectBlueGreenInput,
): BlueGreenService[] {
  const slotLabel = input.slotLabel ?? DEFAULT_SLOT_LABEL;
  const result: BlueGreenService[] = [];
  for (const svc of input.services) {
    const selector = svc.spec?.selector;
    if (!selector || selector[slotLabel] === undefined) continue;
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const rest = withoutKey(selector, slotLabel);
    const problems: string[] = [];

    const candidates = input.deployments.filter(d => {
      if (d.metadata?.namespace !== namespace) return false;
      const labels = d.spec?.template?.metadata?.labels ?? {};
      if (labels[slotLabel] === undefined) return false;
      return Object.entries(rest).every(([k, v]) => labels[k] === v);
    });
    const bySlot = new Map<string, KubeDeployment[]>();
    for (const d of candidates) {
      const slot = d.spec!.template!.metadata!.labels![slotLabel];
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), d]);
    }
    for (const [slot, ds] of bySlot) {
      if (ds.length > 1) {
        problems.push(
          `Slot '${slot}' is claimed by ${ds.length} Deployments (${ds
            .map(d => d.metadata?.name)
            .join(', ')}); a slot must map to exactly one Deployment.`,
        );
      }
    }
    if (bySlot.size < 2) {
      problems.push(
        `Found ${bySlot.size} slot(s) for the selector; a blue-green pair needs two Deployments whose pod labels differ only in '${slotLabel}'.`,
      );
    }

    const traffic = endpointsBySlot(
      namespace,
      name,
      input.endpointSlices ?? [],
      input.pods ?? [],
      slotLabel,
    );
    const selectorSlot = selector[slotLabel];
    const slots: BlueGreenSlot[] = [...bySlot.entries()]
      .filter(([, ds]) => ds.length === 1)
      .map(([slot, [d]]) => {
        const status = deriveRolloutStatus(d);
        const notReadyReason = slotReadiness(status);
        return {
          slot,
          deployment: d.metadata?.name ?? '',
          live: slot === selectorSlot,
          images: status.images,
          revision: status.revision,
          rollout: {
            phase: status.phase,
            message: status.message,
            complete: status.complete,
            desired: status.desired,
            updated: status.updated,
            ready: status.ready,
            available: status.available,
          },
          readyForTraffic: notReadyReason === undefined,
          ...(notReadyReason && { notReadyReason }),
          readyEndpoints: traffic.bySlot[slot] ?? 0,
        };
      })
      .sort((a, b) => a.slot.localeCompare(b.slot));

    const liveSlot = slots.some(s => s.slot === selectorSlot)
      ? selectorSlot
      : undefined;
    if (!liveSlot) {
      problems.push(
        `The Service selects ${slotLabel}=${selectorSlot}, but no single Deployment runs that slot: the Service has no backing pods.`,
      );
    }
    const annotations = svc.metadata?.annotations;
    result.push({
      namespace,
      service: name,
      slotLabel,
      liveSlot,
      selectorSlot,
      previousSlot: annotations?.[PREVIOUS_SLOT_ANNOTATION],
      slots,
      trafficSlots: Object.keys(traffic.bySlot)
        .filter(s => traffic.bySlot[s] > 0)
        .sort(),
      unknownEndpoints: traffic.unknown,
      problems,
      hasAnnotations: annotations !== undefined && annotations !== null,
    });
  }
  return result;
}

/** Why a switch was refused. @public */
export type SwitchRefusalCode =
  | 'unknown-slot'
  | 'already-live'
  | 'not-ready'
  | 'no-previous-slot';

/** @public */
export type SwitchPlan =
  | {
      allowed: true;
      from: string;
      to: string;
      /** JSON Patch for the Service; its `test` op makes a concurrent change fail. */
      patch: JsonPatchOperation[];
    }
  | { allowed: false; code: SwitchRefusalCode; reason: string };

/** @public */
export interface PlanSwitchOptions {
  /**
   * The slot the caller believes is live. The patch's `test` operation checks
   * the selector against it, so the API server rejects the switch if someone
   * else changed the selector meanwhile. Defaults to the selector value seen in
   * `service`.
   */
  expectedCurrentSlot?: string;
}

/**
 * Plans a switch of a blue-green Service to `targetSlot`: either a refusal with
 * a reason, or the JSON Patch that tests the current selector value, replaces
 * it and records the previous slot in an annotation.
 *
 * @public
 */
export function planSwitch(
  service: BlueGreenService,
  targetSlot: string,
  options: PlanSwitchOptions = {},
): SwitchPlan {
  const current = options.expectedCurrentSlot ?? service.selectorSlot;
  const target = service.slots.find(s => s.slot === targetSlot);
  if (!target) {
    return {
      allowed: false,
      code: 'unknown-slot',
      reason: `Service ${service.namespace}/${
        service.service
      } has no slot '${targetSlot}'; known slots: ${
        service.slots.map(s => s.slot).join(', ') || 'none'
      }.`,
    };
  }
  if (targetSlot === current) {
    return {
      allowed: false,
      code: 'already-live',
      reason: `Slot '${targetSlot}' is already live.`,
    };
  }
  if (!target.readyForTraffic) {
    return {
      allowed: false,
      code: 'not-ready',
      reason: `Slot '${targetSlot}' (Deployment ${target.deployment}) is not ready for traffic: ${target.notReadyReason}.`,
    };
  }
  const selectorPath = jsonPointer('spec', 'selector', service.slotLabel);
  const patch: JsonPatchOperation[] = [
    { op: 'test', path: selectorPath, value: current },
    { op: 'replace', path: selectorPath, value: targetSlot },
  ];
  if (service.hasAnnotations) {
    patch.push({
      op: service.previousSlot === undefined ? 'add' : 'replace',
      path: jsonPointer('metadata', 'annotations', PREVIOUS_SLOT_ANNOTATION),
      value: current,
    });
  } else {
    patch.push({
      op: 'add',
      path: jsonPointer('metadata', 'annotations'),
      value: { [PREVIOUS_SLOT_ANNOTATION]: current },
    });
  }
  return { allowed: true, from: current, to: targetSlot, patch };
}

/**
 * Plans a rollback: a switch back to the slot recorded by the last switch.
 *
 * @public
 */
export function planRollback(
  service: BlueGreenService,
  options: PlanSwitchOptions = {},
): SwitchPlan {
  if (!service.previousSlot) {
    return {
      allowed: false,
      code: 'no-previous-slot',
      reason: `Service ${service.namespace}/${service.service} has no '${PREVIOUS_SLOT_ANNOTATION}' annotation: it was not switched by this plugin, so there is nothing to roll back to.`,
    };
  }
  return planSwitch(service, service.previousSlot, options);
}

/**
 * Whether the Service's EndpointSlices route only to pods of `slot` (at least
 * one ready endpoint, none of another slot or unknown).
 *
 * @public
 */
export function trafficConverged(
  service: BlueGreenService,
  slot: string,
): boolean {
  return (
    service.trafficSlots.length === 1 &&
    service.trafficSlots[0] === slot &&
    service.unknownEndpoints === 0
  );
}
