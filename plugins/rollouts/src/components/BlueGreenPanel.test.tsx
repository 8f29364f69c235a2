import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { kubernetesAuthProvidersApiRef } from '@backstage/plugin-kubernetes-react';
import {
  ClusterWriteAccess,
  SwitchTrafficResponse,
  TrafficPreflightRequest,
  TrafficPreflightResponse,
} from '@golden-path/plugin-rollouts-common';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { rolloutsApiRef } from '../api';
import { statusResponse } from '../testing/fixtures';
import { BlueGreenPanel } from './BlueGreenPanel';

const entity = {
  kind: 'component',
  namespace: 'default',
  name: 'fastapi-demo',
};
// usePermission caches decisions per resourceRef across tests (SWR).
const restrictedEntity = { ...entity, name: 'restricted-service' };

const thePair = {
  cluster: 'local',
  namespace: 'fastapi-demo',
  service: 'demo-api',
};

/** A switch's answer: blue to green, converged, and `overrides`. */
const switched = (
  overrides: Partial<SwitchTrafficResponse> = {},
): SwitchTrafficResponse => ({
  ...thePair,
  from: 'blue',
  to: 'green',
  endpointsConverged: true,
  elapsedMs: 842,
  checks: [],
  ...overrides,
});

const passedChecks = (to: string): TrafficPreflightResponse => ({
  ...thePair,
  from: 'blue',
  to,
  ok: true,
  checks: [
    {
      id: 'slot',
      status: 'passed',
      message: `Slot '${to}' (Deployment demo-api-${to}): successfully rolled out (2/2 available).`,
    },
    {
      id: 'ownership',
      status: 'passed',
      message:
        'Deployment and preview Service name component:default/fastapi-demo.',
    },
    {
      id: 'preview',
      status: 'passed',
      message: `demo-api-preview routes to 2 ready endpoint(s) of '${to}', nothing else.`,
    },
    {
      id: 'smoke-test',
      status: 'passed',
      message:
        '5/5 GET /health through demo-api-preview answered 200 with version 2.0.0.',
    },
  ],
});

function setup(options: {
  allowed: boolean;
  greenAvailable?: number;
  previousSlot?: string;
  selectorSlot?: string;
  previewSlot?: string;
  blueScaleDownAt?: string;
  writes?: ClusterWriteAccess;
  switchTraffic?: jest.Mock;
  preflightTraffic?: jest.Mock;
}) {
  const target = options.allowed ? entity : restrictedEntity;
  const api = {
    preflightTraffic:
      options.preflightTraffic ??
      jest.fn(async (_entity: unknown, request: TrafficPreflightRequest) =>
        passedChecks(request.action === 'switch' ? request.targetSlot : 'blue'),
      ),
    switchTraffic: options.switchTraffic ?? jest.fn(async () => switched()),
    rollbackTraffic: jest.fn(async () =>
      switched({ from: 'green', to: 'blue', elapsedMs: 100 }),
    ),
  };
  const onChanged = jest.fn();
  const service = statusResponse({
    greenAvailable: options.greenAvailable,
    previousSlot: options.previousSlot,
    selectorSlot: options.selectorSlot,
    previewSlot: options.previewSlot,
    blueScaleDownAt: options.blueScaleDownAt,
  }).clusters[0].blueGreen[0];
  const kubernetesAuth = {
    getCredentials: jest.fn(async () => ({ token: 'users-own-token' })),
    getRequestBody: jest.fn(),
  };
  const permissionApi = mockApis.permission({
    authorize: options.allowed ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
  });
  const rendered = renderInTestApp(
    <BlueGreenPanel
      entity={target}
      cluster="local"
      writes={options.writes ?? { mode: 'plugin' }}
      service={service}
      onChanged={onChanged}
    />,
    {
      apis: [
        [rolloutsApiRef, api],
        [kubernetesAuthProvidersApiRef, kubernetesAuth],
        permissionApi,
      ] as const,
    },
  );
  return { api, onChanged, rendered, kubernetesAuth };
}

// react-aria dialogs and userEvent are slow on a busy 2-core CI machine.
jest.setTimeout(20_000);

/** The value the pair summary shows for a term ("Live slot", ...). */
function shown(term: string): string | undefined {
  const dt = screen.getAllByRole('term').find(t => t.textContent === term);
  return dt?.nextElementSibling?.textContent ?? undefined;
}

/** The description under a slot's name in the slot table ("live", "idle ..."). */
function slotState(slot: string): string | undefined {
  const row = screen
    .getAllByRole('row')
    .find(r => within(r).queryByText(slot, { exact: true }));
  return row && within(row).getByText(/^(live|idle)/).textContent!;
}

/** Waits until the switch was sent with (at least) these fields. */
function switchedWith(api: { switchTraffic: jest.Mock }, fields: object) {
  return waitFor(() =>
    expect(api.switchTraffic).toHaveBeenCalledWith(
      entity,
      expect.objectContaining(fields),
      { headers: {} },
    ),
  );
}

/** Opens the confirmation and waits for its checks. */
async function confirmAfterChecks(button: string, confirm: string) {
  await userEvent.click(await screen.findByRole('button', { name: button }));
  expect(
    await screen.findByRole('list', { name: 'Checks before the switch' }),
  ).toBeInTheDocument();
  await userEvent.click(screen.getByRole('button', { name: confirm }));
}

describe('BlueGreenPanel', () => {
  it('shows which slot is live, which is idle, and what each slot runs', async () => {
    setup({ allowed: true });
    expect(
      await screen.findByText('Blue-green: fastapi-demo/demo-api'),
    ).toBeInTheDocument();
    expect(shown('Live slot')).toBe('blue');
    expect(shown('Idle slot')).toBe('green');
    expect(shown('Preview Service')).toBe('none');
    expect(slotState('blue')).toBe('live');
    expect(slotState('green')).toBe('idle');
    expect(
      screen.getByText('ghcr.io/example/fastapi-demo:1.0.0'),
    ).toBeInTheDocument();
    expect(screen.getByText('version 2.0.0')).toBeInTheDocument();
    expect(screen.getByText('revision 5')).toBeInTheDocument();
  });

  it('shows green live once the Service selects it, with the preview on blue', async () => {
    setup({ allowed: true, selectorSlot: 'green', previewSlot: 'blue' });
    await screen.findByText('Blue-green: fastapi-demo/demo-api');
    expect(shown('Live slot')).toBe('green');
    expect(shown('Idle slot')).toBe('blue');
    expect(shown('Preview Service')).toBe(
      'demo-api-preview → blue (2 ready endpoints)',
    );
    expect(slotState('green')).toBe('live');
    expect(slotState('blue')).toBe('idle');
    expect(
      screen.getByRole('button', { name: 'Switch to blue' }),
    ).toBeEnabled();
    expect(
      screen.queryByRole('button', { name: 'Switch to green' }),
    ).not.toBeInTheDocument();
  });

  it("shows when an idle slot's scheduled scale-down happens", async () => {
    const at = '2026-11-28T10:10:00Z';
    setup({ allowed: true, selectorSlot: 'green', blueScaleDownAt: at });
    await screen.findByText('Blue-green: fastapi-demo/demo-api');
    expect(slotState('blue')).toBe(
      `idle · scales down to 0 at ${new Date(at).toLocaleString()}`,
    );
    expect(slotState('green')).toBe('live');
  });

  it('shows the checks, smoke test included, before the user confirms, then switches testing the slot the user saw', async () => {
    const { api, onChanged } = setup({ allowed: true, previewSlot: 'green' });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    expect(
      await screen.findByText(/All traffic of Service fastapi-demo\/demo-api/),
    ).toBeInTheDocument();
    const checks = await screen.findByRole('list', {
      name: 'Checks before the switch',
    });
    expect(
      within(checks)
        .getAllByRole('listitem')
        .map(li => li.getAttribute('aria-label')),
    ).toEqual([
      'Target slot: passed',
      'Ownership: passed',
      'Preview Service: passed',
      'Smoke test: passed',
    ]);
    expect(
      within(checks).getByText(
        '5/5 GET /health through demo-api-preview answered 200 with version 2.0.0.',
      ),
    ).toBeInTheDocument();
    expect(api.preflightTraffic).toHaveBeenCalledWith(
      entity,
      {
        ...thePair,
        expectedCurrentSlot: 'blue',
        action: 'switch',
        targetSlot: 'green',
      },
      { headers: {} },
    );
    expect(api.switchTraffic).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await waitFor(() => expect(api.switchTraffic).toHaveBeenCalledTimes(1));
    expect(api.switchTraffic).toHaveBeenCalledWith(
      entity,
      { ...thePair, targetSlot: 'green', expectedCurrentSlot: 'blue' },
      { headers: {} },
    );
    expect(
      await screen.findByText('Traffic moved from blue to green in 842 ms.'),
    ).toBeInTheDocument();
    expect(onChanged).toHaveBeenCalled();
  });

  it('cannot be confirmed while the checks run, nor when one failed', async () => {
    let answer: (r: TrafficPreflightResponse) => void = () => {};
    const preflightTraffic = jest.fn(
      () =>
        new Promise<TrafficPreflightResponse>(resolve => {
          answer = resolve;
        }),
    );
    const { api } = setup({ allowed: true, preflightTraffic });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    expect(await screen.findByText(/Running the checks/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Switch' })).toBeDisabled();
    const failed = passedChecks('green');
    failed.ok = false;
    failed.checks[3] = {
      id: 'smoke-test',
      status: 'failed',
      message:
        "smoke test: GET /health through demo-api-preview answered 200 but not version 2.0.0 of slot 'green' (request 1 of 5): {}",
    };
    answer(failed);
    expect(
      await screen.findByLabelText('Smoke test: failed'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('A check failed: the switch would be refused.'),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Switch' })).toBeDisabled();
    expect(api.switchTraffic).not.toHaveBeenCalled();
  });

  it('asks for a delayed scale-down of the slot left when the user wants one', async () => {
    const { api } = setup({ allowed: true, previewSlot: 'green' });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    await screen.findByRole('list', { name: 'Checks before the switch' });
    await userEvent.click(
      screen.getByRole('checkbox', {
        name: 'Keep blue running for an instant rollback, then scale it down',
      }),
    );
    const delay = screen.getByRole('textbox', {
      name: 'Scale-down delay (seconds)',
    });
    await userEvent.clear(delay);
    await userEvent.type(delay, '900');
    await userEvent.tab();
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await switchedWith(api, {
      targetSlot: 'green',
      scaleDownDelaySeconds: 900,
    });
    expect(api.switchTraffic).toHaveBeenCalledTimes(1);
  });

  it('tells what the switch did to the preview and when the old slot scales down', async () => {
    const at = '2026-11-28T10:25:00Z';
    setup({
      allowed: true,
      previewSlot: 'green',
      switchTraffic: jest.fn(async () =>
        switched({
          elapsedMs: 500,
          preview: {
            service: 'demo-api-preview',
            repointed: true,
            from: 'green',
            to: 'blue',
          },
          scaleDown: {
            slot: 'blue',
            deployment: 'demo-api-blue',
            at,
            replicas: 2,
          },
        }),
      ),
    });
    await confirmAfterChecks('Switch to green', 'Switch');
    expect(
      await screen.findByText(
        `Preview demo-api-preview now selects blue. blue keeps running until ${new Date(
          at,
        ).toLocaleString()}, then scales down to 0 (a rollback before then is instant).`,
      ),
    ).toBeInTheDocument();
  });

  it('does nothing when the confirmation is cancelled', async () => {
    const { api } = setup({ allowed: true });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    await userEvent.click(
      await screen.findByRole('button', { name: 'Cancel' }),
    );
    expect(api.switchTraffic).not.toHaveBeenCalled();
  });

  it('shows the server refusal', async () => {
    const error = Object.assign(new Error('Request failed with 409 Conflict'), {
      body: {
        error: { message: 'Service changed meanwhile; nothing was written.' },
      },
    });
    setup({ allowed: true, switchTraffic: jest.fn().mockRejectedValue(error) });
    await confirmAfterChecks('Switch to green', 'Switch');
    expect(
      await screen.findByText(
        'Service changed meanwhile; nothing was written.',
      ),
    ).toBeInTheDocument();
  });

  it('disables the switch to a slot that is not ready and explains why', async () => {
    setup({ allowed: true, greenAvailable: 1 });
    const button = await screen.findByRole('button', {
      name: 'Switch to green',
    });
    expect(button).toBeDisabled();
    expect(
      screen.getByText(
        'Waiting for deployment "demo-api-green" rollout to finish: 1 of 2 updated replicas are available...',
      ),
    ).toBeInTheDocument();
  });

  it('offers rollback to the recorded previous slot, saying when it scales that slot up first', async () => {
    const preflightTraffic = jest.fn(async () => ({
      ...passedChecks('green'),
      scaleUpFirst: {
        slot: 'green',
        deployment: 'demo-api-green',
        replicas: 2,
      },
    }));
    const { api } = setup({
      allowed: true,
      previousSlot: 'green',
      preflightTraffic,
    });
    expect(shown('Rollback to')).toBe('green');
    await userEvent.click(
      await screen.findByRole('button', { name: 'Roll back to green' }),
    );
    expect(
      await screen.findByText(
        'green was scaled down: the rollback scales it back up to 2 replicas first and waits until it is ready.',
      ),
    ).toBeInTheDocument();
    expect(preflightTraffic).toHaveBeenCalledWith(
      entity,
      expect.objectContaining({ action: 'rollback' }),
      { headers: {} },
    );
    await userEvent.click(screen.getByRole('button', { name: 'Roll back' }));
    await waitFor(() =>
      expect(api.rollbackTraffic).toHaveBeenCalledWith(
        entity,
        { ...thePair, expectedCurrentSlot: 'blue' },
        { headers: {} },
      ),
    );
  });

  it('hides the buttons from users who may not switch', async () => {
    setup({ allowed: false, previousSlot: 'green' });
    expect(
      await screen.findByText(
        'Only the owners of this entity can switch or roll back traffic.',
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Switch to/ }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Roll back/ }),
    ).not.toBeInTheDocument();
  });

  it('can switch a Service whose live slot has no Deployment, to recover from the outage', async () => {
    const { api } = setup({ allowed: true, selectorSlot: 'purple' });
    await screen.findByText('Blue-green: fastapi-demo/demo-api');
    expect(shown('Live slot')).toBe('none (purple)');
    expect(shown('Idle slot')).toBe('none');
    const toGreen = screen.getByRole('button', { name: 'Switch to green' });
    expect(toGreen).toBeEnabled();
    expect(
      screen.getByRole('button', { name: 'Switch to blue' }),
    ).toBeEnabled();
    await userEvent.click(toGreen);
    expect(
      await screen.findByText('purple (no Deployment)'),
    ).toBeInTheDocument();
    // No Deployment to keep running: no scale-down option.
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    await screen.findByRole('list', { name: 'Checks before the switch' });
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await switchedWith(api, {
      targetSlot: 'green',
      expectedCurrentSlot: 'purple',
    });
  });

  it('explains instead of offering buttons where writes are disabled', async () => {
    setup({
      allowed: true,
      writes: {
        mode: 'disabled',
        reason:
          "Writes are disabled in cluster 'local': they need the rollouts plugin's own identity.",
      },
    });
    expect(
      await screen.findByText(
        "Writes are disabled in cluster 'local': they need the rollouts plugin's own identity.",
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Switch to/ }),
    ).not.toBeInTheDocument();
  });

  it("sends the user's own Kubernetes token where the cluster signs users in, with no delayed scale-down", async () => {
    const { api, kubernetesAuth } = setup({
      allowed: true,
      writes: { mode: 'user', authProvider: 'oidc', oidcTokenProvider: 'okta' },
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    await screen.findByRole('list', { name: 'Checks before the switch' });
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await waitFor(() => expect(api.switchTraffic).toHaveBeenCalledTimes(1));
    expect(kubernetesAuth.getCredentials).toHaveBeenCalledWith('oidc.okta');
    const headers = {
      'Backstage-Kubernetes-Authorization-oidc-okta': 'users-own-token',
    };
    expect(api.preflightTraffic.mock.calls[0][2]).toEqual({ headers });
    expect(api.switchTraffic.mock.calls[0][2]).toEqual({ headers });
  });
});
