import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { kubernetesAuthProvidersApiRef } from '@backstage/plugin-kubernetes-react';
import { ClusterWriteAccess } from '@internal/plugin-rollouts-common';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { screen, waitFor } from '@testing-library/react';
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

function setup(options: {
  allowed: boolean;
  greenAvailable?: number;
  previousSlot?: string;
  selectorSlot?: string;
  writes?: ClusterWriteAccess;
  switchTraffic?: jest.Mock;
}) {
  const target = options.allowed ? entity : restrictedEntity;
  const api = {
    switchTraffic:
      options.switchTraffic ??
      jest.fn(async () => ({
        cluster: 'local',
        namespace: 'fastapi-demo',
        service: 'demo-api',
        from: 'blue',
        to: 'green',
        endpointsConverged: true,
        elapsedMs: 842,
      })),
    rollbackTraffic: jest.fn(async () => ({
      cluster: 'local',
      namespace: 'fastapi-demo',
      service: 'demo-api',
      from: 'blue',
      to: 'green',
      endpointsConverged: true,
      elapsedMs: 100,
    })),
  };
  const onChanged = jest.fn();
  const service = statusResponse({
    greenAvailable: options.greenAvailable,
    previousSlot: options.previousSlot,
    selectorSlot: options.selectorSlot,
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

describe('BlueGreenPanel', () => {
  it('shows the live slot and what each slot runs', async () => {
    setup({ allowed: true });
    expect(
      await screen.findByText('Blue-green: fastapi-demo/demo-api'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('ghcr.io/example/fastapi-demo:1.0.0'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('ghcr.io/example/fastapi-demo:2.0.0'),
    ).toBeInTheDocument();
    expect(screen.getByText('revision 5')).toBeInTheDocument();
  });

  it('switches after confirmation, testing the slot the user saw', async () => {
    const { api, onChanged } = setup({ allowed: true });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    expect(
      await screen.findByText(/All traffic of Service fastapi-demo\/demo-api/),
    ).toBeInTheDocument();
    expect(api.switchTraffic).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await waitFor(() => expect(api.switchTraffic).toHaveBeenCalledTimes(1));
    expect(api.switchTraffic).toHaveBeenCalledWith(
      entity,
      {
        cluster: 'local',
        namespace: 'fastapi-demo',
        service: 'demo-api',
        targetSlot: 'green',
        expectedCurrentSlot: 'blue',
      },
      { headers: {} },
    );
    expect(
      await screen.findByText('Traffic moved from blue to green in 842 ms.'),
    ).toBeInTheDocument();
    expect(onChanged).toHaveBeenCalled();
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
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
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

  it('offers rollback to the recorded previous slot', async () => {
    const { api } = setup({ allowed: true, previousSlot: 'green' });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Roll back to green' }),
    );
    await userEvent.click(
      await screen.findByRole('button', { name: 'Roll back' }),
    );
    await waitFor(() =>
      expect(api.rollbackTraffic).toHaveBeenCalledWith(
        entity,
        {
          cluster: 'local',
          namespace: 'fastapi-demo',
          service: 'demo-api',
          expectedCurrentSlot: 'blue',
        },
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
    expect(await screen.findByText('none (purple)')).toBeInTheDocument();
    const toGreen = screen.getByRole('button', { name: 'Switch to green' });
    expect(toGreen).toBeEnabled();
    expect(
      screen.getByRole('button', { name: 'Switch to blue' }),
    ).toBeEnabled();
    await userEvent.click(toGreen);
    expect(
      await screen.findByText('purple (no Deployment)'),
    ).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await waitFor(() =>
      expect(api.switchTraffic).toHaveBeenCalledWith(
        entity,
        expect.objectContaining({
          targetSlot: 'green',
          expectedCurrentSlot: 'purple',
        }),
        { headers: {} },
      ),
    );
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

  it("sends the user's own Kubernetes token where the cluster signs users in", async () => {
    const { api, kubernetesAuth } = setup({
      allowed: true,
      writes: { mode: 'user', authProvider: 'oidc', oidcTokenProvider: 'okta' },
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Switch to green' }),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Switch' }));
    await waitFor(() => expect(api.switchTraffic).toHaveBeenCalledTimes(1));
    expect(kubernetesAuth.getCredentials).toHaveBeenCalledWith('oidc.okta');
    expect(api.switchTraffic.mock.calls[0][2]).toEqual({
      headers: {
        'Backstage-Kubernetes-Authorization-oidc-okta': 'users-own-token',
      },
    });
  });
});
