import { InputError } from '@backstage/errors';
import {
  BlueGreenService,
  checkOwnership,
  detectBlueGreen,
  firstFailedCheck,
  isPreviewService,
  KubeService,
  ownershipCheck,
  OwnershipCheck,
  PREVIEW_OF_ANNOTATION,
  previewCheck,
  rolloutsTrafficSwitchPermission,
  ScaleUpStep,
  serviceProxyPort,
  skippedCheck,
  slotCheck,
  SmokeExpectation,
  smokeResponseFailure,
  SmokeResponse,
  smokeTestCheck,
  SwitchCheck,
  SwitchPlan,
} from '@golden-path/plugin-rollouts-common';
import { RolloutsSettings } from '../../settings';
import { EntitySelection } from '../entitySelection';
import { entityObjects, namespaceOf } from '../status/entityObjects';
import { BoundObject, WritableCluster, WriteGuard } from './WriteGuard';

/**
 * A blue-green pair as a switch sees it: the live Service bound to the entity
 * (read fresh), its preview Service (read fresh; whether it names the entity
 * is a check), and the pair's view with the cached Deployments, pods and
 * EndpointSlices.
 */
export interface BoundPair {
  selection: EntitySelection;
  target: WritableCluster;
  live: BoundObject<KubeService>;
  preview?: { object: KubeService; ownership: OwnershipCheck };
  bg: BlueGreenService;
}

/** The pair's view from the cache, with the live and preview Services given. */
export function pairView(
  pair: Omit<BoundPair, 'bg'>,
  slotLabel: string,
): BlueGreenService {
  const objects = entityObjects(pair.target.cluster, pair.selection);
  const live = pair.live.object;
  const name = live.metadata?.name;
  const cachedPreviews = objects.services.filter(
    s =>
      namespaceOf(s) === namespaceOf(live) &&
      s.metadata?.annotations?.[PREVIEW_OF_ANNOTATION] === name,
  );
  const [bg] = detectBlueGreen({
    services: [
      live,
      ...(pair.preview ? [pair.preview.object] : cachedPreviews),
    ],
    deployments: objects.deployments,
    pods: objects.pods,
    endpointSlices: objects.endpointSlices,
    slotLabel,
  });
  if (!bg) {
    throw new InputError(
      `Service ${namespaceOf(
        live,
      )}/${name} is not blue-green: its selector has no '${slotLabel}' label`,
    );
  }
  return bg;
}

/**
 * Authorizes the switch, binds the live Service and reads the preview Service
 * fresh (guard steps 1-3).
 */
export async function bindPair(
  guard: WriteGuard,
  body: { cluster: string; namespace: string; service: string },
  settings: RolloutsSettings,
): Promise<BoundPair> {
  const selection = await guard.authorize(rolloutsTrafficSwitchPermission);
  const target = guard.cluster(body.cluster, selection);
  const live = await guard.bind(
    target,
    selection,
    `Service ${body.namespace}/${body.service}`,
    api => api.getService(body.namespace, body.service),
  );
  const previewOf = live.object.metadata?.annotations?.[PREVIEW_OF_ANNOTATION];
  if (isPreviewService(live.object)) {
    throw new InputError(
      `Service ${body.namespace}/${body.service} is the preview of '${previewOf}' (${PREVIEW_OF_ANNOTATION}): switch that Service; its preview follows.`,
    );
  }
  const previews = entityObjects(target.cluster, selection).services.filter(
    s =>
      namespaceOf(s) === body.namespace &&
      s.metadata?.annotations?.[PREVIEW_OF_ANNOTATION] === body.service,
  );
  let preview: BoundPair['preview'];
  if (previews.length === 1) {
    const previewName = previews[0].metadata?.name ?? '';
    preview = await guard.inspect(
      target,
      selection,
      `Service ${body.namespace}/${previewName}`,
      api => api.getService(body.namespace, previewName),
    );
  }
  const unbound = { selection, target, live, preview };
  return { ...unbound, bg: pairView(unbound, settings.slotLabel) };
}

/** The preview Service bound for a write (its ownership check passed). */
export function boundPreview(
  pair: BoundPair,
): BoundObject<KubeService> | undefined {
  const preview = pair.preview;
  if (!preview?.ownership.owned) return undefined;
  return {
    object: preview.object,
    ownerAnnotation: preview.ownership.annotationValue,
  };
}

async function smokeTest(
  guard: WriteGuard,
  pair: BoundPair,
  to: string,
  settings: RolloutsSettings,
): Promise<SwitchCheck> {
  const preview = pair.preview!.object;
  const namespace = namespaceOf(preview);
  const name = preview.metadata?.name ?? '';
  const port = serviceProxyPort(preview);
  if (!port) {
    return {
      id: 'smoke-test',
      status: 'failed',
      message: `The preview Service ${name} has no port to send the smoke test to.`,
    };
  }
  const { path, requests, timeoutMs } = settings.smokeTest;
  const expectation: SmokeExpectation = {
    namespace,
    previewService: name,
    slot: to,
    version: pair.bg.slots.find(s => s.slot === to)?.version,
    path,
    requests,
  };
  const responses: SmokeResponse[] = [];
  for (let i = 1; i <= requests; i++) {
    let response: SmokeResponse;
    try {
      response = await pair.target.api.getThroughServiceProxy(
        namespace,
        name,
        port,
        path,
        timeoutMs,
      );
    } catch (error) {
      // The error can name internal addresses: logged, not shown.
      guard.logger.warn('smoke test request failed', {
        entityRef: guard.entityRef,
        cluster: pair.target.cluster.name,
        service: `${namespace}/${name}`,
        error: String(error),
      });
      response = {
        status: 0,
        body: `no answer within ${timeoutMs / 1000} s`,
      };
    }
    responses.push(response);
    if (smokeResponseFailure(response, expectation, i)) break;
  }
  return smokeTestCheck(responses, expectation);
}

/**
 * The checks before a switch to `to`, in the script's order; the smoke test
 * runs only when every other check passed. With `scaleUp` (a rollback to a
 * slot that was scaled down), the checks that need the slot running are
 * `pending`: the rollback runs them once it is back up.
 */
export async function switchChecks(
  guard: WriteGuard,
  pair: BoundPair,
  plan: SwitchPlan,
  to: string,
  settings: RolloutsSettings,
  scaleUp?: ScaleUpStep,
): Promise<SwitchCheck[]> {
  const { bg } = pair;
  const pending = (id: SwitchCheck['id'], message: string): SwitchCheck => ({
    id,
    status: 'pending',
    message,
  });
  const timeout = `${settings.switchTimeoutMs / 1000} s`;
  const checks: SwitchCheck[] = [
    scaleUp
      ? pending(
          'slot',
          `Slot '${to}' (Deployment ${scaleUp.deployment}) was scaled to 0 by its scheduled scale-down: the rollback scales it back up to ${scaleUp.replicas} replicas first and waits up to ${timeout} until it is ready.`,
        )
      : slotCheck(bg, plan),
  ];

  const slot = bg.slots.find(s => s.slot === to);
  const deployment =
    slot &&
    pair.target.cluster
      .objects('deployments')
      .get(bg.namespace, slot.deployment);
  checks.push(
    deployment
      ? ownershipCheck(
          [
            {
              what: `Deployment ${slot.deployment}`,
              refusal: `Traffic would move to slot '${to}'`,
              check: checkOwnership(
                { kind: 'Deployment', ...deployment },
                guard.entityRef,
              ),
            },
            ...(pair.preview
              ? [
                  {
                    what: `preview Service ${pair.preview.object.metadata?.name}`,
                    refusal: `The preview Service would test slot '${to}'`,
                    check: pair.preview.ownership,
                  },
                ]
              : []),
          ],
          guard.entityRef,
        )
      : skippedCheck('ownership', `Slot '${to}' has no Deployment.`),
  );

  if (scaleUp) {
    checks.push(
      pending(
        'preview',
        'Checked once the slot is back up: the preview Service must route only to its ready endpoints.',
      ),
      pending(
        'smoke-test',
        `Run once the slot is back up: ${settings.smokeTest.requests} GET ${settings.smokeTest.path} through the preview Service.`,
      ),
    );
    return checks;
  }
  const preview = previewCheck(bg, to);
  checks.push(preview);
  if (firstFailedCheck(checks)) {
    checks.push(
      skippedCheck('smoke-test', 'Not run: an earlier check failed.'),
    );
  } else if (preview.status !== 'passed') {
    checks.push(
      skippedCheck(
        'smoke-test',
        'Not run: there is no preview Service to send requests through.',
      ),
    );
  } else {
    checks.push(await smokeTest(guard, pair, to, settings));
  }
  return checks;
}
