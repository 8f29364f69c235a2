import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import {
  BlueGreenService,
  detectBlueGreen,
  firstFailedCheck,
  JsonPatchOperation,
  KubeDeployment,
  MAX_SCALE_DOWN_DELAY_SECONDS,
  planCancelScaleDown,
  planPreviewRepoint,
  planRestoreReplicas,
  planRollback,
  planScheduleScaleDown,
  planSwitch,
  previewCheck,
  PreviewRepoint,
  RollbackTrafficRequest,
  rollbackScaleUp,
  rolloutsTrafficSwitchPermission,
  ScaleUpStep,
  SwitchCheck,
  SwitchPlan,
  SwitchTrafficRequest,
  SwitchTrafficResponse,
  TrafficPreflightRequest,
  TrafficPreflightResponse,
  trafficConverged,
} from '@golden-path/plugin-rollouts-common';
import { z } from 'zod';
import { RolloutsSettings } from '../../settings';
import { RolloutsCluster } from '../clusters/types';
import { EntitySelection } from '../entitySelection';
import { entityObjects } from '../status/entityObjects';
import {
  bindPair,
  BoundPair,
  boundPreview,
  pairView,
  switchChecks,
} from './blueGreenPair';
import { waitForCache } from './waitForCache';
import { WriteGuard } from './WriteGuard';
import { WriteCommand } from './WriteRunner';

const name = z.string().min(1).max(253);
const slot = z.string().min(1).max(63);
const pairSchema = z.object({
  cluster: name,
  namespace: name,
  service: name,
  expectedCurrentSlot: slot.optional(),
});
const scaleDownDelaySeconds = z
  .number()
  .int()
  .min(0)
  .max(MAX_SCALE_DOWN_DELAY_SECONDS)
  .optional();
const switchSchema = pairSchema.extend({
  targetSlot: slot,
  scaleDownDelaySeconds,
});
const rollbackSchema = pairSchema.extend({ scaleDownDelaySeconds });
const preflightSchema = z.union([
  pairSchema.extend({ action: z.literal('switch'), targetSlot: slot }),
  pairSchema.extend({ action: z.literal('rollback') }),
]);

type Action =
  | { kind: 'switch'; to: string }
  | { kind: 'rollback'; to: string; scaleUp?: ScaleUpStep };

/** The rollback target (the previous-slot annotation), or 409. */
function rollbackAction(bg: BlueGreenService): Action {
  const plan = planRollback(bg);
  if (!bg.previousSlot) {
    throw new ConflictError(!plan.allowed ? plan.reason : 'no previous slot');
  }
  return {
    kind: 'rollback',
    to: bg.previousSlot,
    scaleUp: rollbackScaleUp(bg, bg.previousSlot),
  };
}

/**
 * The plan of `action` and its checks; with `scaleUp`, the checks that need
 * the scaled-down slot running are pending.
 */
async function planAndCheck(
  guard: WriteGuard,
  pair: BoundPair,
  action: Action,
  expectedCurrentSlot: string | undefined,
  settings: RolloutsSettings,
  scaleUp?: ScaleUpStep,
) {
  const switchPlan =
    action.kind === 'rollback'
      ? planRollback(pair.bg, { expectedCurrentSlot })
      : planSwitch(pair.bg, action.to, { expectedCurrentSlot });
  const checks = await switchChecks(
    guard,
    pair,
    switchPlan,
    action.to,
    settings,
    scaleUp,
  );
  return { switchPlan, checks, failed: firstFailedCheck(checks) };
}

/** The error a failed check refuses the switch with. */
function refusal(check: SwitchCheck, switchPlan: SwitchPlan) {
  if (check.id === 'ownership') return new NotAllowedError(check.message);
  if (
    check.id === 'slot' &&
    !switchPlan.allowed &&
    switchPlan.code === 'unknown-slot'
  ) {
    return new InputError(check.message);
  }
  return new ConflictError(check.message);
}

/** Waits (on the watch, no polling) until the EndpointSlices route only to the target slot. */
function waitForConvergence(
  cluster: RolloutsCluster,
  selection: EntitySelection,
  want: { namespace: string; service: string; to: string },
  settings: RolloutsSettings,
): Promise<boolean> {
  return waitForCache(
    cluster,
    ['endpointslices', 'pods', 'services'],
    () => {
      const objects = entityObjects(cluster, selection);
      const current = detectBlueGreen({
        services: objects.services,
        deployments: objects.deployments,
        pods: objects.pods,
        endpointSlices: objects.endpointSlices,
        slotLabel: settings.slotLabel,
      }).find(
        b => b.namespace === want.namespace && b.service === want.service,
      );
      return (
        current !== undefined &&
        current.selectorSlot === want.to &&
        trafficConverged(current, want.to)
      );
    },
    settings.switchTimeoutMs,
  );
}

/**
 * Reads a Deployment of the pair fresh, bound to the entity, and sends the
 * patch `plan` makes of it (pinned to its UID and owner). Returns the plan;
 * a refused plan sends nothing.
 */
async function patchSlotDeployment<
  P extends
    | { allowed: true; patch: JsonPatchOperation[] }
    | { allowed: false; reason: string },
>(
  guard: WriteGuard,
  pair: BoundPair,
  deployment: string,
  action: string,
  plan: (object: KubeDeployment) => P,
): Promise<P> {
  const { target, selection, bg } = pair;
  const what = `Deployment ${bg.namespace}/${deployment}`;
  const bound = await guard.bind(target, selection, what, api =>
    api.getDeployment(bg.namespace, deployment),
  );
  const planned = plan(bound.object);
  if (planned.allowed) {
    await guard.patch(
      target,
      bound,
      `${action} ${what}`,
      planned.patch,
      (api, patch) => api.patchDeployment(bg.namespace, deployment, patch),
    );
  }
  return planned;
}

/**
 * A rollback to a slot that its scheduled scale-down took to 0: scales it back
 * up to the recorded count (pinned to 0 replicas and the record), then waits
 * until it is ready for traffic and its preview endpoints are ready. Refused,
 * with traffic left where it is, if it does not get there in time.
 */
async function scaleBackUp(
  guard: WriteGuard,
  pair: BoundPair,
  step: ScaleUpStep,
  settings: RolloutsSettings,
): Promise<BoundPair> {
  const restore = await patchSlotDeployment(
    guard,
    pair,
    step.deployment,
    'Scaling back up',
    planRestoreReplicas,
  );
  if (!restore.allowed) throw new ConflictError(restore.reason);
  const readyNow = () => {
    const view = pairView(pair, settings.slotLabel);
    return (
      view.slots.find(s => s.slot === step.slot)?.readyForTraffic === true &&
      (view.preview?.selectorSlot !== step.slot ||
        previewCheck(view, step.slot).status === 'passed')
    );
  };
  const ready = await waitForCache(
    pair.target.cluster,
    ['deployments', 'pods', 'endpointslices'],
    readyNow,
    settings.switchTimeoutMs,
  );
  if (!ready) {
    throw new ConflictError(
      `Slot '${step.slot}' was scaled back up to ${
        restore.replicas
      } replicas, but it was not ready for traffic within ${
        settings.switchTimeoutMs / 1000
      } s, so traffic was not moved. Roll back again once it is ready.`,
    );
  }
  return { ...pair, bg: pairView(pair, settings.slotLabel) };
}

/** Removes a scheduled scale-down of the slot about to take traffic. */
async function cancelScaleDown(
  guard: WriteGuard,
  pair: BoundPair,
  to: string,
): Promise<SwitchTrafficResponse['cancelledScaleDown']> {
  const slotView = pair.bg.slots.find(s => s.slot === to);
  if (!slotView?.scaleDown || slotView.scaleDown.state === 'scaled-down') {
    return undefined;
  }
  const cancel = await patchSlotDeployment(
    guard,
    pair,
    slotView.deployment,
    'Cancelling the scheduled scale-down of',
    planCancelScaleDown,
  );
  if (!cancel.allowed) return undefined;
  return {
    slot: to,
    deployment: slotView.deployment,
    at: slotView.scaleDown.state === 'scheduled' ? slotView.scaleDown.at : '',
  };
}

/**
 * Points the preview Service at the slot just left and, when that slot runs,
 * waits until the preview routes to it (as the script does), so that a
 * rollback right after finds its target testable. Traffic moved either way.
 */
async function repointPreview(
  guard: WriteGuard,
  pair: BoundPair,
  switched: Extract<SwitchPlan, { allowed: true }>,
  settings: RolloutsSettings,
): Promise<PreviewRepoint | undefined> {
  const preview = boundPreview(pair);
  if (!preview) return undefined;
  const { namespace } = pair.bg;
  const service = preview.object.metadata?.name ?? '';
  const repoint = planPreviewRepoint(pair.bg, switched.to, switched.from);
  if (!repoint.allowed) {
    return { service, repointed: false, reason: repoint.reason };
  }
  try {
    await guard.patch(
      pair.target,
      preview,
      `Pointing preview Service ${namespace}/${service} at '${switched.from}'`,
      repoint.patch,
      (api, patch) => api.patchService(namespace, service, patch),
    );
  } catch (error) {
    return { service, repointed: false, reason: (error as Error).message };
  }
  const left = pair.bg.slots.find(s => s.slot === switched.from);
  const endpointsConverged =
    (left?.rollout.available ?? 0) > 0 &&
    (await waitForCache(
      pair.target.cluster,
      ['endpointslices', 'pods', 'services'],
      // The cached preview Service, as repointed (not the one read before).
      () =>
        previewCheck(
          pairView({ ...pair, preview: undefined }, settings.slotLabel),
          switched.from,
        ).status === 'passed',
      settings.switchTimeoutMs,
    ));
  return {
    service,
    repointed: true,
    from: switched.to,
    to: switched.from,
    endpointsConverged,
  };
}

/** Annotates the slot just left with its delayed scale-down. */
async function scheduleScaleDown(
  guard: WriteGuard,
  pair: BoundPair,
  from: string,
  delaySeconds: number,
): Promise<Pick<SwitchTrafficResponse, 'scaleDown' | 'scaleDownNotScheduled'>> {
  const left = pair.bg.slots.find(s => s.slot === from);
  if (!left) {
    return {
      scaleDownNotScheduled: `slot '${from}' has no Deployment to scale down`,
    };
  }
  try {
    const schedule = await patchSlotDeployment(
      guard,
      pair,
      left.deployment,
      'Scheduling the scale-down of',
      object =>
        planScheduleScaleDown(object, { delaySeconds, now: Date.now() }),
    );
    if (!schedule.allowed) return { scaleDownNotScheduled: schedule.reason };
    return {
      scaleDown: {
        slot: from,
        deployment: left.deployment,
        at: schedule.at,
        replicas: schedule.replicas,
      },
    };
  } catch (error) {
    return { scaleDownNotScheduled: (error as Error).message };
  }
}

/**
 * The switch (or rollback), top to bottom as `scripts/bg-switch.sh` runs it:
 * the checks (slot, ownership, preview, smoke test), then one pinned patch of
 * the live Service, the wait for its EndpointSlices, the preview Service
 * pointed at the slot left, and the optional delayed scale-down of that slot.
 * A rollback to a scaled-down slot scales it back up first; a pending
 * scale-down of the target is removed before it takes traffic.
 */
async function executeSwitch(
  guard: WriteGuard,
  boundPair: BoundPair,
  action: Action,
  body: { expectedCurrentSlot?: string; scaleDownDelaySeconds?: number },
  settings: RolloutsSettings,
): Promise<SwitchTrafficResponse> {
  let pair = boundPair;
  if (
    body.scaleDownDelaySeconds !== undefined &&
    pair.target.identity !== 'plugin'
  ) {
    throw new InputError(
      `A delayed scale-down runs later, without you, with the rollouts plugin's own identity, and cluster '${pair.target.cluster.name}' writes with your own credentials: switch without scaleDownDelaySeconds.`,
    );
  }
  let scaledUp: ScaleUpStep | undefined;
  if (action.kind === 'rollback' && action.scaleUp) {
    const before = await planAndCheck(
      guard,
      pair,
      action,
      body.expectedCurrentSlot,
      settings,
      action.scaleUp,
    );
    if (before.failed) throw refusal(before.failed, before.switchPlan);
    pair = await scaleBackUp(guard, pair, action.scaleUp, settings);
    scaledUp = action.scaleUp;
  }

  const { switchPlan, checks, failed } = await planAndCheck(
    guard,
    pair,
    action,
    body.expectedCurrentSlot,
    settings,
  );
  if (failed || !switchPlan.allowed) {
    throw refusal(failed ?? checks[0], switchPlan);
  }
  const { namespace, service } = pair.bg;
  const cancelledScaleDown = await cancelScaleDown(guard, pair, switchPlan.to);

  const started = Date.now();
  await guard.patch(
    pair.target,
    pair.live,
    `Switching Service ${namespace}/${service} from '${switchPlan.from}' to '${switchPlan.to}'`,
    switchPlan.patch,
    (api, patch) => api.patchService(namespace, service, patch),
  );
  const converged = await waitForConvergence(
    pair.target.cluster,
    pair.selection,
    { namespace, service, to: switchPlan.to },
    settings,
  );
  const elapsedMs = Date.now() - started;
  const preview = await repointPreview(guard, pair, switchPlan, settings);
  const scaleDown =
    body.scaleDownDelaySeconds === undefined
      ? {}
      : await scheduleScaleDown(
          guard,
          pair,
          switchPlan.from,
          body.scaleDownDelaySeconds,
        );
  return {
    cluster: pair.target.cluster.name,
    namespace,
    service,
    from: switchPlan.from,
    to: switchPlan.to,
    endpointsConverged: converged,
    elapsedMs,
    checks,
    ...(preview && { preview }),
    ...scaleDown,
    ...(cancelledScaleDown && { cancelledScaleDown }),
    ...(scaledUp && { scaledUp }),
  };
}

type PairBody = {
  cluster: string;
  namespace: string;
  service: string;
  expectedCurrentSlot?: string;
};

/**
 * A command on a blue-green pair: authorized with the switch permission, the
 * live Service bound and the preview read fresh, then `run` on the pair.
 */
function pairCommand<B extends PairBody, R extends object>(
  settings: RolloutsSettings,
  command: Omit<WriteCommand<B, R>, 'permission' | 'run'> & {
    run(guard: WriteGuard, pair: BoundPair, body: B): Promise<R>;
  },
): WriteCommand<B, R> {
  return {
    ...command,
    permission: rolloutsTrafficSwitchPermission,
    async run(guard, body) {
      return command.run(guard, await bindPair(guard, body, settings), body);
    },
  };
}

/**
 * Switches a blue-green Service to another slot after the checks of
 * `scripts/bg-switch.sh` (a refused check gives 409, 403 or 400 with its
 * message and nothing written); the patch tests the selector value the user
 * saw (a concurrent switch gives 409), then waits for the EndpointSlices.
 */
export function switchTrafficCommand(
  settings: RolloutsSettings,
): WriteCommand<SwitchTrafficRequest, SwitchTrafficResponse> {
  return pairCommand(settings, {
    path: '/traffic/switch',
    eventId: 'traffic-switch',
    schema: switchSchema,
    run: (guard, pair, body) =>
      executeSwitch(
        guard,
        pair,
        { kind: 'switch', to: body.targetSlot },
        body,
        settings,
      ),
  });
}

/** Switches a blue-green Service back to the slot recorded by the last switch. */
export function rollbackTrafficCommand(
  settings: RolloutsSettings,
): WriteCommand<RollbackTrafficRequest, SwitchTrafficResponse> {
  return pairCommand(settings, {
    path: '/traffic/rollback',
    eventId: 'traffic-rollback',
    schema: rollbackSchema,
    run: (guard, pair, body) =>
      executeSwitch(guard, pair, rollbackAction(pair.bg), body, settings),
  });
}

/**
 * The checks a switch or rollback would run, smoke test included, without
 * changing anything: what the confirmation dialog shows. Authorized and
 * audited like the switch: the smoke test calls the application with the
 * write identity.
 */
export function trafficPreflightCommand(
  settings: RolloutsSettings,
): WriteCommand<TrafficPreflightRequest, TrafficPreflightResponse> {
  return pairCommand(settings, {
    path: '/traffic/preflight',
    eventId: 'traffic-preflight',
    severityLevel: 'low',
    schema: preflightSchema as z.ZodType<TrafficPreflightRequest>,
    async run(guard, pair, body) {
      const action: Action =
        body.action === 'switch'
          ? { kind: 'switch', to: body.targetSlot }
          : rollbackAction(pair.bg);
      const scaleUp = action.kind === 'rollback' ? action.scaleUp : undefined;
      const { checks, failed } = await planAndCheck(
        guard,
        pair,
        action,
        body.expectedCurrentSlot,
        settings,
        scaleUp,
      );
      return {
        cluster: pair.target.cluster.name,
        namespace: pair.bg.namespace,
        service: pair.bg.service,
        from: body.expectedCurrentSlot ?? pair.bg.selectorSlot,
        to: action.to,
        ok: failed === undefined,
        checks,
        ...(scaleUp && { scaleUpFirst: scaleUp }),
      };
    },
  });
}
