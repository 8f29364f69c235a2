import {
  KubeDeployment,
  KubeEndpointSlice,
  KubePod,
  KubeService,
} from './kube';
import { JsonPatchOperation, jsonPointer } from './jsonPatch';
import { deriveRolloutStatus, RolloutStatus } from './rolloutStatus';
import { scaleDownState, SlotScaleDown } from './scaleDown';

/** Default label whose value names a slot (`blue`, `green`...). @public */
export const DEFAULT_SLOT_LABEL = 'app.kubernetes.io/slot';

/** Service annotation where a switch records the slot it switched away from. @public */
export const PREVIOUS_SLOT_ANNOTATION = 'rollouts.backstage.io/previous-slot';

/** Label the EndpointSlice controller puts on the slices of a Service. @public */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * Annotation of a preview Service: the name of the live Service (same
 * namespace) whose idle slot it exposes for testing, as Argo Rollouts'
 * `previewService` does. Such a Service is that pair's preview, never a pair
 * of its own. The blue-green template and its `scripts/bg-switch.sh` use the
 * same name.
 *
 * @public
 */
export const PREVIEW_OF_ANNOTATION = 'rollouts.backstage.io/preview-of';

/**
 * Pod template label with the version a slot runs (the smoke test expects the
 * slot to report it).
 *
 * @public
 */
export const VERSION_LABEL = 'app.kubernetes.io/version';

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
  /** The version the slot runs (see {@link slotVersion}). */
  version?: string;
  /** A scale-down scheduled after a switch away from this slot. */
  scaleDown?: SlotScaleDown;
}

/**
 * The preview Service of a blue-green pair: a second Service that selects the
 * idle slot, so the next version can be tested before it takes traffic.
 *
 * @public
 */
export interface BlueGreenPreview {
  service: string;
  /** Slot named in its selector (undefined: it has no slot label). */
  selectorSlot?: string;
  /** Ready endpoints per slot. */
  endpoints: Record<string, number>;
  /** Ready endpoints whose pod has no slot label or is unknown. */
  unknownEndpoints: number;
  /** Endpoints that are not ready. */
  notReadyEndpoints: number;
  /** Why it cannot preview the pair's slots. */
  problems: string[];
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
  /** The one known slot that is not live (undefined unless exactly one). */
  idleSlot?: string;
  /** The Service annotated as this one's preview ({@link PREVIEW_OF_ANNOTATION}). */
  preview?: BlueGreenPreview;
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
 * pods the endpoints point at, and the endpoints that are not ready.
 *
 * @public
 */
export function endpointsBySlot(
  namespace: string,
  service: string,
  endpointSlices: KubeEndpointSlice[],
  pods: KubePod[],
  slotLabel: string,
): { bySlot: Record<string, number>; unknown: number; notReady: number } {
  const podSlots = new Map<string, string | undefined>();
  for (const pod of pods) {
    if (pod.metadata?.namespace === namespace && pod.metadata.name) {
      podSlots.set(pod.metadata.name, pod.metadata.labels?.[slotLabel]);
    }
  }
  const bySlot: Record<string, number> = {};
  let unknown = 0;
  let notReady = 0;
  const seen = new Set<string>();
  for (const slice of endpointSlices) {
    if (
      slice.metadata?.namespace !== namespace ||
      slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== service
    ) {
      continue;
    }
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) {
        notReady++;
        continue;
      }
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
  return { bySlot, unknown, notReady };
}

/**
 * The version a slot runs, which its smoke test expects it to report: the pod
 * template's `app.kubernetes.io/version` label, else the tag of its first
 * container's image (as `scripts/bg-switch.sh` decides it).
 *
 * @public
 */
export function slotVersion(deployment: KubeDeployment): string | undefined {
  const label = deployment.spec?.template?.metadata?.labels?.[VERSION_LABEL];
  if (label) return label;
  const image = deployment.spec?.template?.spec?.containers?.[0]?.image;
  if (!image) return undefined;
  const lastSegment = image.split('@')[0].split('/').pop() ?? '';
  const colon = lastSegment.lastIndexOf(':');
  return colon >= 0 && colon < lastSegment.length - 1
    ? lastSegment.slice(colon + 1)
    : undefined;
}

/** Whether a Service declares itself the preview of another. @public */
export function isPreviewService(service: KubeService): boolean {
  return service.metadata?.annotations?.[PREVIEW_OF_ANNOTATION] !== undefined;
}

function selectorText(selector: Record<string, string>) {
  return (
    Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',') || 'nothing else'
  );
}

/**
 * The preview of the live Service `live`, from the Services annotated as
 * previews of it. Problems that make it useless are reported on the pair (one
 * preview at most; it must select the same pods as the live Service but for
 * the slot).
 */
function previewOf(
  live: KubeService,
  previews: KubeService[],
  input: DetectBlueGreenInput,
  slotLabel: string,
  pairProblems: string[],
): BlueGreenPreview | undefined {
  const namespace = live.metadata?.namespace;
  const mine = previews.filter(
    p =>
      p.metadata?.namespace === namespace &&
      p.metadata?.annotations?.[PREVIEW_OF_ANNOTATION] === live.metadata?.name,
  );
  if (mine.length === 0) return undefined;
  if (mine.length > 1) {
    pairProblems.push(
      `Several Services are annotated as its preview (${mine
        .map(p => p.metadata?.name)
        .sort()
        .join(
          ', ',
        )}; ${PREVIEW_OF_ANNOTATION}); a pair has one preview Service, so none is used.`,
    );
    return undefined;
  }
  const [svc] = mine;
  const name = svc.metadata?.name ?? '';
  const selector = svc.spec?.selector ?? {};
  const problems: string[] = [];
  const selectorSlot = selector[slotLabel];
  if (selectorSlot === undefined) {
    problems.push(
      `The preview Service ${name} has no '${slotLabel}' label in its selector: it cannot preview a slot.`,
    );
  }
  const liveRest = selectorText(
    withoutKey(live.spec?.selector ?? {}, slotLabel),
  );
  const previewRest = selectorText(withoutKey(selector, slotLabel));
  if (previewRest !== liveRest) {
    problems.push(
      `The preview Service ${name} selects other pods than ${live.metadata?.name} (besides '${slotLabel}'): [${previewRest}] vs [${liveRest}].`,
    );
  }
  const traffic = endpointsBySlot(
    namespace ?? '',
    name,
    input.endpointSlices ?? [],
    input.pods ?? [],
    slotLabel,
  );
  return {
    service: name,
    ...(selectorSlot !== undefined && { selectorSlot }),
    endpoints: traffic.bySlot,
    unknownEndpoints: traffic.unknown,
    notReadyEndpoints: traffic.notReady,
    problems,
  };
}

/**
 * Finds blue-green pairs: a Service whose selector includes the slot label, and
 * Deployments in its namespace whose pod template labels match the rest of the
 * selector and differ from each other only in the slot label's value. Reports
 * which slot is live, which is idle, what each runs, whether the idle one can
 * take traffic, and the pair's preview Service. A Service annotated
 * {@link PREVIEW_OF_ANNOTATION} is a preview, never a pair of its own.
 *
 * @public
 */
export function detectBlueGreen(
  input: DetectBlueGreenInput,
): BlueGreenService[] {
  const slotLabel = input.slotLabel ?? DEFAULT_SLOT_LABEL;
  const previews = input.services.filter(isPreviewService);
  const result: BlueGreenService[] = [];
  for (const svc of input.services) {
    const selector = svc.spec?.selector;
    if (!selector || selector[slotLabel] === undefined) continue;
    if (isPreviewService(svc)) continue;
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
        const version = slotVersion(d);
        const scaleDown = scaleDownState(d);
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
          ...(version && { version }),
          ...(scaleDown && { scaleDown }),
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
    const idle = slots.filter(s => s.slot !== selectorSlot);
    const preview = previewOf(svc, previews, input, slotLabel, problems);
    const annotations = svc.metadata?.annotations;
    result.push({
      namespace,
      service: name,
      slotLabel,
      liveSlot,
      selectorSlot,
      previousSlot: annotations?.[PREVIOUS_SLOT_ANNOTATION],
      ...(idle.length === 1 && { idleSlot: idle[0].slot }),
      ...(preview && { preview }),
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

/** @public */
export type PreviewRepointPlan =
  | { allowed: true; service: string; patch: JsonPatchOperation[] }
  | { allowed: false; reason: string };

/**
 * Plans pointing the pair's preview Service, which selected `switchedTo`
 * before the switch, at the slot just left (`switchedFrom`), as
 * `scripts/bg-switch.sh` does: the old version stays reachable for comparison
 * and the preview again shows the idle slot. The patch tests the slot it
 * replaces, so a concurrent change fails.
 *
 * @public
 */
export function planPreviewRepoint(
  service: BlueGreenService,
  switchedTo: string,
  switchedFrom: string,
): PreviewRepointPlan {
  const preview = service.preview;
  if (!preview) {
    return {
      allowed: false,
      reason: `Service ${service.service} has no preview Service`,
    };
  }
  if (!service.slots.some(s => s.slot === switchedFrom)) {
    return {
      allowed: false,
      reason: `the slot switched away from ('${switchedFrom}') has no Deployment, so there is nothing to preview`,
    };
  }
  const path = jsonPointer('spec', 'selector', service.slotLabel);
  return {
    allowed: true,
    service: preview.service,
    patch: [
      { op: 'test', path, value: switchedTo },
      { op: 'replace', path, value: switchedFrom },
    ],
  };
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
