import {
  BlueGreenService,
  PREVIEW_OF_ANNOTATION,
  SwitchPlan,
} from './blueGreen';
import { KubeService } from './kube';
import { OwnershipCheck } from './ownership';

/**
 * The checks before a switch, in the order `scripts/bg-switch.sh` runs them:
 * - `slot`: the target is a known slot, not live, fully rolled out, all
 *   desired replicas available;
 * - `ownership`: the target's Deployment and the preview Service name the
 *   entity, like the live Service;
 * - `preview`: the preview Service selects the target and routes only to its
 *   ready endpoints;
 * - `smoke-test`: requests through the preview Service answer 200 with the
 *   target's version.
 *
 * @public
 */
export type SwitchCheckId = 'slot' | 'ownership' | 'preview' | 'smoke-test';

/**
 * `pending`: checked after a step of the action itself (a rollback scales a
 * scaled-down slot back up first).
 *
 * @public
 */
export type SwitchCheckStatus = 'passed' | 'failed' | 'skipped' | 'pending';

/** @public */
export interface SwitchCheck {
  id: SwitchCheckId;
  status: SwitchCheckStatus;
  message: string;
}

/** How the smoke test calls the target. @public */
export interface SmokeTestSettings {
  /** Path requested through the preview Service (`SMOKE_PATH` of the script). */
  path: string;
  /** How many requests must pass (`SMOKE_REQUESTS`). */
  requests: number;
}

/** The script's defaults. @public */
export const DEFAULT_SMOKE_TEST: SmokeTestSettings = {
  path: '/health',
  requests: 5,
};

/**
 * One answer through the preview Service. `status` 0: no answer (`body` says
 * why).
 *
 * @public
 */
export interface SmokeResponse {
  status: number;
  body: string;
}

/** @public */
export interface SmokeExpectation {
  namespace: string;
  previewService: string;
  slot: string;
  /** The version the target must report; undefined: any 200 passes. */
  version?: string;
  path: string;
  requests: number;
}

const MAX_BODY_SHOWN = 300;

/** The first failed check, which refuses the switch. @public */
export function firstFailedCheck(
  checks: SwitchCheck[],
): SwitchCheck | undefined {
  return checks.find(c => c.status === 'failed');
}

/** The `slot` check from the switch plan. @public */
export function slotCheck(bg: BlueGreenService, plan: SwitchPlan): SwitchCheck {
  if (!plan.allowed) {
    return { id: 'slot', status: 'failed', message: plan.reason };
  }
  const target = bg.slots.find(s => s.slot === plan.to)!;
  return {
    id: 'slot',
    status: 'passed',
    message: `Slot '${target.slot}' (Deployment ${target.deployment}): ${target.rollout.message} (${target.rollout.available}/${target.rollout.desired} available).`,
  };
}

/**
 * The `ownership` check: every object the switch touches names the entity.
 * `what` names an object in the passed message, `refusal` says what it was
 * needed for in the failed one.
 *
 * @public
 */
export function ownershipCheck(
  objects: { what: string; refusal: string; check: OwnershipCheck }[],
  entityRef: string,
): SwitchCheck {
  const refused = objects.find(o => !o.check.owned);
  if (refused && !refused.check.owned) {
    return {
      id: 'ownership',
      status: 'failed',
      message: `${refused.refusal}: ${refused.check.reason}`,
    };
  }
  return {
    id: 'ownership',
    status: 'passed',
    message: `${objects.map(o => o.what).join(', ')} ${
      objects.length === 1 ? 'names' : 'name'
    } ${entityRef}.`,
  };
}

function endpointSummary(
  preview: NonNullable<BlueGreenService['preview']>,
  slots: string[],
) {
  const names = [
    ...slots,
    ...Object.keys(preview.endpoints).filter(s => !slots.includes(s)),
  ];
  return [
    ...names.map(s => `${s}=${preview.endpoints[s] ?? 0}`),
    `unknown=${preview.unknownEndpoints}`,
    `not-ready=${preview.notReadyEndpoints}`,
  ].join(' ');
}

/**
 * The `preview` check: the pair's preview Service selects `target` and its
 * EndpointSlices hold ready endpoints of `target` and nothing else. A pair
 * without a preview Service is switched without one (`skipped`: the target
 * cannot be tested first), unlike the script, which needs one.
 *
 * @public
 */
export function previewCheck(
  bg: BlueGreenService,
  target: string,
): SwitchCheck {
  const preview = bg.preview;
  if (!preview) {
    return {
      id: 'preview',
      status: 'skipped',
      message: `Service ${bg.service} has no preview Service (a Service annotated ${PREVIEW_OF_ANNOTATION}: ${bg.service}), so slot '${target}' cannot be tested before it takes traffic.`,
    };
  }
  if (preview.problems.length > 0) {
    return { id: 'preview', status: 'failed', message: preview.problems[0] };
  }
  if (preview.selectorSlot !== target) {
    return {
      id: 'preview',
      status: 'failed',
      message: `The preview Service ${preview.service} selects slot '${preview.selectorSlot}', not '${target}': the target cannot be tested before it takes traffic. Point it at the target first (scripts/bg-switch.sh preview ${target}).`,
    };
  }
  const onlyTarget =
    (preview.endpoints[target] ?? 0) > 0 &&
    preview.unknownEndpoints === 0 &&
    preview.notReadyEndpoints === 0 &&
    Object.entries(preview.endpoints).every(
      ([slot, n]) => slot === target || n === 0,
    );
  if (!onlyTarget) {
    return {
      id: 'preview',
      status: 'failed',
      message: `The preview Service ${
        preview.service
      } must route only to ready endpoints of slot '${target}'; its EndpointSlices hold: ${endpointSummary(
        preview,
        bg.slots.map(s => s.slot),
      )}.`,
    };
  }
  return {
    id: 'preview',
    status: 'passed',
    message: `${preview.service} routes to ${preview.endpoints[target]} ready endpoint(s) of '${target}', nothing else.`,
  };
}

/**
 * The port of a Service that the smoke test calls through the API server's
 * service proxy (`services/<name>:<port>/proxy`, RBAC verb `get` on
 * `services/proxy`): its first port, by name if it has one. The API server
 * sends each request to one ready endpoint of the Service.
 *
 * @public
 */
export function serviceProxyPort(service: KubeService): string | undefined {
  const port = service.spec?.ports?.[0];
  if (!port) return undefined;
  return port.name || String(port.port);
}

function escapeRegExp(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A `Status` object of the API server itself (not an answer of the pod). */
function apiServerStatus(
  body: string,
): { code?: number; reason?: string } | undefined {
  try {
    const parsed = JSON.parse(body);
    return parsed?.kind === 'Status' && parsed?.apiVersion === 'v1'
      ? parsed
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why one smoke-test answer fails, or undefined if it passes: it must be 200
 * and, when the slot has a version, contain `"version": "<version>"` (the
 * script's test). Errors of the API server itself are named by code and
 * reason only: their text can hold internal addresses.
 *
 * @public
 */
export function smokeResponseFailure(
  response: SmokeResponse,
  expect: SmokeExpectation,
  index: number,
): string | undefined {
  const what = `smoke test: GET ${expect.path} through ${expect.previewService}`;
  const nth = `(request ${index} of ${expect.requests})`;
  if (response.status === 0) {
    return `${what} got no answer ${nth}: ${response.body}`;
  }
  const status = response.status !== 200 && apiServerStatus(response.body);
  if (status) {
    if (response.status === 403 && status.reason === 'Forbidden') {
      return `${what}: the write identity may not use the API server's service proxy (RBAC: get on services/proxy in namespace ${expect.namespace}), so the target cannot be tested.`;
    }
    return `${what}: the API server could not reach a pod of ${
      expect.previewService
    } (${response.status}${status.reason ? ` ${status.reason}` : ''}) ${nth}.`;
  }
  const body = response.body.slice(0, MAX_BODY_SHOWN);
  if (response.status !== 200) {
    return `${what} answered ${response.status} ${nth}: ${body}`;
  }
  if (
    expect.version !== undefined &&
    !new RegExp(`"version"\\s*:\\s*"${escapeRegExp(expect.version)}"`).test(
      response.body,
    )
  ) {
    return `${what} answered 200 but not version ${expect.version} of slot '${expect.slot}' ${nth}: ${body}`;
  }
  return undefined;
}

/**
 * The `smoke-test` check from the answers so far: failed at the first bad one
 * (the caller stops there), passed when all `requests` passed.
 *
 * @public
 */
export function smokeTestCheck(
  responses: SmokeResponse[],
  expect: SmokeExpectation,
): SwitchCheck {
  for (const [i, response] of responses.entries()) {
    const failure = smokeResponseFailure(response, expect, i + 1);
    if (failure) {
      return { id: 'smoke-test', status: 'failed', message: failure };
    }
  }
  if (responses.length < expect.requests) {
    return {
      id: 'smoke-test',
      status: 'failed',
      message: `smoke test: only ${responses.length} of ${expect.requests} requests were sent.`,
    };
  }
  return {
    id: 'smoke-test',
    status: 'passed',
    message: `${expect.requests}/${expect.requests} GET ${
      expect.path
    } through ${expect.previewService} answered 200${
      expect.version === undefined ? '' : ` with version ${expect.version}`
    }.`,
  };
}

/**
 * A check that did not run because an earlier one failed or there is nothing
 * to check.
 *
 * @public
 */
export function skippedCheck(id: SwitchCheckId, message: string): SwitchCheck {
  return { id, status: 'skipped', message };
}
