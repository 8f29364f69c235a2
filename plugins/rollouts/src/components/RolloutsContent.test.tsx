import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { signalApiRef } from '@backstage/plugin-signals-react';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { rolloutsApiRef } from '../api';
import { entity, statusResponse } from '../testing/fixtures';
import { RolloutsCard } from './RolloutsCard';
import { RolloutsContent } from './RolloutsContent';

function fakeSignals() {
  const listeners = new Map<string, (m: any) => void>();
  return {
    api: {
      subscribe: jest.fn((channel: string, onMessage: (m: any) => void) => {
        listeners.set(channel, onMessage);
        return { unsubscribe: () => listeners.delete(channel) };
      }),
    },
    emit(channel: string, message: object) {
      act(() => listeners.get(channel)?.(message));
    },
  };
}

function render(
  element: JSX.Element,
  options: {
    signals?: ReturnType<typeof fakeSignals>;
    allowed?: boolean;
    entityName?: string;
  } = {},
) {
  const api = {
    getStatus: jest.fn(async () => statusResponse()),
    restartDeployment: jest.fn(async () => ({
      cluster: 'local',
      namespace: 'fastapi-demo',
      deployment: 'demo-api-blue',
      restartedAt: '2026-11-28T10:01:00Z',
    })),
    undoDeployment: jest.fn(),
  };
  const authorize = jest.fn(async () => ({
    result:
      options.allowed === false ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
  }));
  const apis: any[] = [
    [rolloutsApiRef, api],
    mockApis.permission.mock({ authorize }),
  ];
  if (options.signals) apis.push([signalApiRef, options.signals.api]);
  // usePermission caches decisions per resourceRef across tests (SWR), so a
  // test that needs another decision uses another entity.
  const shown = options.entityName
    ? { ...entity, metadata: { ...entity.metadata, name: options.entityName } }
    : entity;
  renderInTestApp(<EntityProvider entity={shown}>{element}</EntityProvider>, {
    apis: apis as any,
  });
  return Object.assign(api, { authorize });
}

// react-aria dialogs and userEvent are slow on a busy 2-core CI machine.
jest.setTimeout(20_000);

describe('RolloutsContent', () => {
  it('shows rollouts, probe findings, pod health, quotas, HPAs and events', async () => {
    render(<RolloutsContent />);
    expect(await screen.findByText('Cluster local')).toBeInTheDocument();
    // Rollout table, with kubectl's sentence
    expect(
      screen.getAllByText('deployment "demo-api-blue" successfully rolled out'),
    ).toHaveLength(1);
    expect(
      screen.getAllByText(
        'RollingUpdate: surge 25% (1 pods), unavailable 25% (0 pods)',
      ),
    ).toHaveLength(2);
    // Probes and their findings
    expect(screen.getAllByText('declared dead after 90s')).toHaveLength(2);
    expect(
      screen.getAllByText(
        /Liveness and readiness both check GET http:\/\/:8000\/health/,
      ),
    ).toHaveLength(2);
    expect(
      screen.getAllByText(/Liveness waits 60s before its first check/),
    ).toHaveLength(2);
    // Live pod health
    expect(screen.getByText('waiting (CrashLoopBackOff)')).toBeInTheDocument();
    expect(screen.getByText('OOMKilled (exit 137)')).toBeInTheDocument();
    // Requests/limits with LimitRange defaults, quota, HPA, events
    expect(screen.getAllByText('from LimitRange: cpu')).toHaveLength(4);
    expect(
      screen.getByRole('meter', { name: 'requests.cpu used' }),
    ).toHaveAttribute('aria-valuenow', '95');
    expect(screen.getByText('2 / 3 (2–5)')).toBeInTheDocument();
    expect(screen.getByText('Resource cpu: 95% / 70%')).toBeInTheDocument();
    expect(
      screen.getByText('Back-off restarting failed container api'),
    ).toBeInTheDocument();
    // A cluster that is down is reported, the others still show
    expect(screen.getByText('Cluster prod is unreachable')).toBeInTheDocument();
    expect(
      screen.getByText('connect ECONNREFUSED 10.0.0.1:6443'),
    ).toBeInTheDocument();
  });

  it('reloads when the backend signals a change for this entity', async () => {
    const signals = fakeSignals();
    const api = render(<RolloutsContent />, { signals });
    expect(
      await screen.findByText(
        'Live: the page updates when the cluster changes.',
      ),
    ).toBeInTheDocument();
    expect(signals.api.subscribe).toHaveBeenCalledWith(
      'rollouts:component:default/fastapi-demo',
      expect.any(Function),
    );
    expect(api.getStatus).toHaveBeenCalledTimes(1);
    signals.emit('rollouts:component:default/fastapi-demo', {
      type: 'changed',
      cluster: 'local',
    });
    await waitFor(() => expect(api.getStatus).toHaveBeenCalledTimes(2));
  });

  it('polls when signals are not available', async () => {
    const api = render(<RolloutsContent pollMs={50} />);
    expect(
      await screen.findByText(
        'Signals are not available: refreshing every 30 seconds.',
      ),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(api.getStatus.mock.calls.length).toBeGreaterThanOrEqual(3),
    );
  });

  it('restarts a Deployment after confirmation', async () => {
    const api = render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    const [restart] = screen.getAllByRole('button', { name: 'Restart' });
    await userEvent.click(restart);
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Restart' }),
    );
    await waitFor(() =>
      expect(api.restartDeployment).toHaveBeenCalledWith(
        { kind: 'Component', namespace: 'default', name: 'fastapi-demo' },
        {
          cluster: 'local',
          namespace: 'fastapi-demo',
          deployment: 'demo-api-blue',
        },
      ),
    );
    expect(
      await screen.findByText(
        'Restarted demo-api-blue at 2026-11-28T10:01:00Z.',
      ),
    ).toBeInTheDocument();
  });

  it('hides restart and undo from users without the permission', async () => {
    const { authorize } = render(<RolloutsContent />, {
      allowed: false,
      entityName: 'restricted-service',
    });
    await screen.findByText('Cluster local');
    await waitFor(() => expect(authorize).toHaveBeenCalledTimes(3));
    expect(
      await screen.findByText(
        'Only the owners of this entity can switch or roll back traffic.',
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Restart' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Undo' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: /Switch to/ }),
    ).not.toBeInTheDocument();
  });
});

describe('RolloutsCard', () => {
  it('summarises rollouts, findings and the live slot', async () => {
    render(<RolloutsCard />);
    expect(await screen.findByText('demo-api-blue')).toBeInTheDocument();
    expect(screen.getAllByText('2/2 available')).toHaveLength(2);
    // blue: probe findings + crash loop + OOM kill; green: probe findings
    expect(screen.getByText('4 findings')).toBeInTheDocument();
    expect(screen.getByText('2 findings')).toBeInTheDocument();
    expect(
      screen.getByText(
        'prod: unreachable (connect ECONNREFUSED 10.0.0.1:6443)',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('demo-api: live slot', { exact: false }),
    ).toHaveTextContent('demo-api: live slot blue');
  });
});
