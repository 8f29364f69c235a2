import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import {
  BlueGreenService,
  checkOwnership,
  detectBlueGreen,
  KubeService,
  planRollback,
  planSwitch,
  RollbackTrafficRequest,
  rolloutsTrafficSwitchPermission,
  SwitchPlan,
  SwitchTrafficRequest,
  SwitchTrafficResponse,
  trafficConverged,
} from '@internal/plugin-rollouts-common';
import { z } from 'zod';
import { RolloutsSettings } from '../../settings';
import { RolloutsCluster } from '../clusters/types';
import { EntitySelection } from '../entitySelection';
import { entityObjects } from '../status/entityObjects';
import { waitForCache } from './waitForCache';
import { BoundObject, WritableCluster, WriteGuard } from './WriteGuard';
import { WriteCommand } from './WriteRunner';

const name = z.string().min(1).max(253);
const slot = z.string().min(1).max(63);
const switchSchema = z.object({
  cluster: name,
  namespace: name,
  service: name,
  targetSlot: slot,
  expectedCurrentSlot: slot.optional(),
});
const rollbackSchema = switchSchema.omit({ targetSlot: true });

/**
 * The blue-green view of the Service as the API server has it now, with the
 * Deployments, pods and EndpointSlices from the cache.
 */
function blueGreenOf(
  target: WritableCluster,
  selection: EntitySelection,
  service: KubeService,
  slotLabel: string,
): BlueGreenService {
  const objects = entityObjects(target.cluster, selection);
  const [bg] = detectBlueGreen({
    services: [service],
    deployments: objects.deployments,
    pods: objects.pods,
    endpointSlices: objects.endpointSlices,
    slotLabel,
  });
  if (!bg) {
    throw new InputError(
      `Service ${service.metadata?.namespace}/${service.metadata?.name} is not blue-green: its selector has no '${slotLabel}' label`,
    );
  }
  return bg;
}

/** The target slot's Deployment must belong to the entity as well. */
function checkTargetDeployment(
  target: WritableCluster,
  bg: BlueGreenService,
  plan: Extract<SwitchPlan, { allowed: true }>,
  entityRef: string,
) {
  const deploymentName = bg.slots.find(s => s.slot === plan.to)?.deployment;
  const deployment = target.cluster
    .list('deployments')
    .find(
      d =>
        d.metadata?.namespace === bg.namespace &&
        d.metadata?.name === deploymentName,
    );
  const ownership = checkOwnership(
    { kind: 'Deployment', ...deployment },
    entityRef,
  );
  if (!ownership.owned) {
    throw new NotAllowedError(
      `Traffic would move to slot '${plan.to}': ${ownership.reason}`,
    );
  }
}

async function executeSwitch(
  guard: WriteGuard,
  target: WritableCluster,
  selection: EntitySelection,
  bound: BoundObject<KubeService>,
  bg: BlueGreenService,
  plan: SwitchPlan,
  settings: RolloutsSettings,
): Promise<SwitchTrafficResponse> {
  if (!plan.allowed) {
    if (plan.code === 'unknown-slot') throw new InputError(plan.reason);
    throw new ConflictError(plan.reason);
  }
  const { namespace, service } = bg;
  checkTargetDeployment(target, bg, plan, guard.entityRef);

  const started = Date.now();
  await guard.patch(
    target,
    bound,
    `Switching Service ${namespace}/${service} from '${plan.from}' to '${plan.to}'`,
    plan.patch,
    (api, patch) => api.patchService(namespace, service, patch),
  );
  const converged = await waitForConvergence(
    target.cluster,
    selection,
    { namespace, service, to: plan.to },
    settings,
  );
  return {
    cluster: target.cluster.name,
    namespace,
    service,
    from: plan.from,
    to: plan.to,
    endpointsConverged: converged,
    elapsedMs: Date.now() - started,
  };
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

/** Reads the Service fresh and binds it to the entity (guard steps 1-3). */
async function boundService(
  guard: WriteGuard,
  body: { cluster: string; namespace: string; service: string },
) {
  const selection = await guard.authorize(rolloutsTrafficSwitchPermission);
  const target = guard.cluster(body.cluster, selection);
  const bound = await guard.bind(
    target,
    selection,
    `Service ${body.namespace}/${body.service}`,
    api => api.getService(body.namespace, body.service),
  );
  return { selection, target, bound };
}

/**
 * Switches a blue-green Service to another slot: refused unless that slot is
 * fully rolled out and available; the patch tests the selector value the user
 * saw (a concurrent switch gives 409), then waits for the EndpointSlices.
 */
export function switchTrafficCommand(
  settings: RolloutsSettings,
): WriteCommand<SwitchTrafficRequest, SwitchTrafficResponse> {
  return {
    path: '/traffic/switch',
    eventId: 'traffic-switch',
    permission: rolloutsTrafficSwitchPermission,
    schema: switchSchema,
    async run(guard, body) {
      const { selection, target, bound } = await boundService(guard, body);
      const bg = blueGreenOf(
        target,
        selection,
        bound.object,
        settings.slotLabel,
      );
      const plan = planSwitch(bg, body.targetSlot, {
        expectedCurrentSlot: body.expectedCurrentSlot,
      });
      return executeSwitch(guard, target, selection, bound, bg, plan, settings);
    },
  };
}

/** Switches a blue-green Service back to the slot recorded by the last switch. */
export function rollbackTrafficCommand(
  settings: RolloutsSettings,
): WriteCommand<RollbackTrafficRequest, SwitchTrafficResponse> {
  return {
    path: '/traffic/rollback',
    eventId: 'traffic-rollback',
    permission: rolloutsTrafficSwitchPermission,
    schema: rollbackSchema,
    async run(guard, body) {
      const { selection, target, bound } = await boundService(guard, body);
      const bg = blueGreenOf(
        target,
        selection,
        bound.object,
        settings.slotLabel,
      );
      const plan = planRollback(bg, {
        expectedCurrentSlot: body.expectedCurrentSlot,
      });
      return executeSwitch(guard, target, selection, bound, bg, plan, settings);
    },
  };
}
