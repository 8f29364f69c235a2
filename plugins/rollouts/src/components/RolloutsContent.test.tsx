import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { statusResponse } from '../testing/fixtures';
import {
  fakeSignals,
  renderRollouts as render,
} from '../testing/renderRollouts';
import { RolloutsCard } from './RolloutsCard';
import { RolloutsContent } from './RolloutsContent';

// react-aria dialogs and userEvent are slow on a busy 2-core CI machine.
jest.setTimeout(20_000);

/** Waits for the first load: the clusters, and the details view they open with. */
async function loaded() {
  await screen.findByText('Cluster local');
  await screen.findAllByRole('tabpanel');
}

/** Opens a details tab of the first cluster (by the start of its name: tabs may carry a count). */
async function openDetails(view: string) {
  const [tab] = screen.getAllByRole('tab', { name: new RegExp(`^${view}`) });
  await userEvent.click(tab);
  await waitFor(() => expect(tab).toHaveAttribute('aria-selected', 'true'));
}

describe('RolloutsContent', () => {
  it('shows rollouts, probe findings, pod health, quotas, HPAs and events, each in its tab', async () => {
    render(<RolloutsContent />);
    await loaded();
    // Deployments (the first tab): rollout table, with kubectl's sentence
    expect(
      screen.getAllByText('deployment "demo-api-blue" successfully rolled out'),
    ).toHaveLength(1);
    expect(
      screen.getAllByText(
        'RollingUpdate: surge 25% (1 pods), unavailable 25% (0 pods)',
      ),
    ).toHaveLength(2);
    // Probes and their findings, live pod health
    await openDetails('Pods & probes');
    expect(screen.getAllByText('declared dead after 90s')).toHaveLength(2);
    expect(
      screen.getAllByText(
        /Liveness and readiness both check GET http:\/\/:8000\/health/,
      ),
    ).toHaveLength(2);
    expect(
      screen.getAllByText(/Liveness waits 60s before its first check/),
    ).toHaveLength(2);
    expect(screen.getByText('waiting (CrashLoopBackOff)')).toBeInTheDocument();
    expect(screen.getByText('OOMKilled (exit 137)')).toBeInTheDocument();
    // Requests/limits with LimitRange defaults, quota
    await openDetails('Resources & quota');
    expect(screen.getAllByText('from LimitRange: cpu')).toHaveLength(4);
    expect(
      screen.getByRole('meter', { name: 'requests.cpu used' }),
    ).toHaveAttribute('aria-valuenow', '95');
    // HPA
    await openDetails('Autoscaling');
    expect(screen.getByText('2 / 3 (2–5)')).toBeInTheDocument();
    expect(screen.getByText('Resource cpu: 95% / 70%')).toBeInTheDocument();
    // Events
    await openDetails('Events');
    expect(
      screen.getByText('Back-off restarting failed container api'),
    ).toBeInTheDocument();
    // A cluster that is down is reported, the others still show
    expect(screen.getByText('Cluster prod is unreachable')).toBeInTheDocument();
    expect(
      screen.getByText(
        "The cluster's API server cannot be reached (listing pods).",
      ),
    ).toBeInTheDocument();
  });

  it('shows the last known state of a dropped cluster, kinds it cannot read and clusters it skips', async () => {
    render(<RolloutsContent />, {
      status: () => {
        const r = statusResponse();
        r.clusters[0] = {
          ...r.clusters[0],
          state: 'error',
          error: "The cluster's API server cannot be reached (listing pods).",
          stale: { since: '2026-11-29T10:00:00Z' },
          unavailable: [{ kind: 'events', state: 'forbidden' }],
        };
        r.skippedClusters = [
          {
            name: 'catalog locator',
            reason: 'Clusters found by the catalog locator are not shown.',
          },
        ];
        return r;
      },
    });
    expect(
      await screen.findByText(
        /Cluster local is unreachable: showing its last known state, from/,
      ),
    ).toBeInTheDocument();
    await screen.findAllByRole('tabpanel');
    // The last known Deployments are still there.
    expect(
      screen.getAllByText('deployment "demo-api-blue" successfully rolled out'),
    ).toHaveLength(1);
    expect(screen.getByText('Not shown: events')).toBeInTheDocument();
    expect(
      screen.getByText(
        'events: the rollouts plugin may not read them in this cluster (RBAC)',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('Not shown: catalog locator')).toBeInTheDocument();
  });

  it('says Live only once signals arrive, and reloads on changes but not on keepalives', async () => {
    const signals = fakeSignals();
    const channel = 'rollouts:component:default/fastapi-demo';
    const api = render(<RolloutsContent />, { signals });
    expect(
      await screen.findByText(
        'Connecting to live updates; refreshing every 30 seconds meanwhile.',
      ),
    ).toBeInTheDocument();
    expect(signals.api.subscribe).toHaveBeenCalledWith(
      channel,
      expect.any(Function),
    );
    signals.emit(channel, { type: 'keepalive' });
    expect(
      await screen.findByText(
        'Live: the page updates when the cluster changes.',
      ),
    ).toBeInTheDocument();
    expect(api.getStatus).toHaveBeenCalledTimes(1);
    signals.emit(channel, { type: 'changed', cluster: 'local' });
    await waitFor(() => expect(api.getStatus).toHaveBeenCalledTimes(2));
  });

  it('reloads for every replica’s copy of a change (a later copy may come from the replica whose cache got it last)', async () => {
    const signals = fakeSignals();
    const channel = 'rollouts:component:default/fastapi-demo';
    const api = render(<RolloutsContent />, { signals });
    await loaded();
    expect(api.getStatus).toHaveBeenCalledTimes(1);
    const change = { type: 'changed', cluster: 'local', resourceVersion: '42' };
    signals.emit(channel, change);
    await waitFor(() => expect(api.getStatus).toHaveBeenCalledTimes(2));
    // The same change from the second replica: the first read may have come
    // from a replica that did not have it yet.
    signals.emit(channel, { ...change });
    await waitFor(() => expect(api.getStatus).toHaveBeenCalledTimes(3));
    // A keepalive only says the link is up.
    signals.emit(channel, { type: 'keepalive' });
    await new Promise(r => setTimeout(r, 100));
    expect(api.getStatus).toHaveBeenCalledTimes(3);
  });

  // Fake timers: the threshold itself (2.5 missed keepalives) is checked,
  // whatever the machine's load; in real time a busy CI run could miss it.
  it('falls back to polling after 2.5 missed keepalives, not after 2 or 3', async () => {
    jest.useFakeTimers();
    try {
      const signals = fakeSignals();
      const channel = 'rollouts:component:default/fastapi-demo';
      const api = render(<RolloutsContent pollMs={5_000} />, {
        signals,
        status: () => ({
          ...statusResponse(),
          liveUpdates: { keepaliveIntervalMs: 10_000 },
        }),
      });
      await loaded();
      const advance = (ms: number) =>
        act(() => jest.advanceTimersByTimeAsync(ms));
      act(() => signals.emit(channel, { type: 'keepalive' }));
      const live = 'Live: the page updates when the cluster changes.';
      const lost =
        'Live updates stopped arriving: refreshing every 5 seconds until they are back.';
      expect(screen.getByText(live)).toBeInTheDocument();
      // 2.4 intervals later (the page re-checks every half interval, so it has
      // checked at least 2 intervals after the keepalive): still live, as one
      // late keepalive on a busy backend must not flip the page.
      await advance(24_000);
      expect(screen.getByText(live)).toBeInTheDocument();
      expect(screen.queryByText(lost)).not.toBeInTheDocument();
      const loads = api.getStatus.mock.calls.length;
      // 2.9 intervals later (checked at least once past 2.5, so 3 would still
      // be live): lost, and it polls every pollMs instead of every 5 minutes.
      await advance(5_000);
      expect(screen.getByText(lost)).toBeInTheDocument();
      await advance(5_000);
      expect(api.getStatus.mock.calls.length).toBeGreaterThan(loads);
      // A keepalive again: live again.
      act(() => signals.emit(channel, { type: 'keepalive' }));
      expect(screen.getByText(live)).toBeInTheDocument();
    } finally {
      jest.useRealTimers();
    }
  });

  // Fake timers: the interval itself is checked, whatever the machine's load (a
  // 50 ms interval counted in real time missed its third call in a busy CI run).
  it('polls at the configured interval when signals are not installed', async () => {
    jest.useFakeTimers();
    try {
      const api = render(<RolloutsContent pollMs={60_000} />);
      expect(
        await screen.findByText(
          'Live updates are not available in this portal: refreshing every 60 seconds.',
        ),
      ).toBeInTheDocument();
      await loaded();
      const loads = api.getStatus.mock.calls.length;
      const advance = (ms: number) =>
        act(() => jest.advanceTimersByTimeAsync(ms));
      await advance(58_000);
      expect(api.getStatus).toHaveBeenCalledTimes(loads);
      await advance(2_000);
      await waitFor(() =>
        expect(api.getStatus).toHaveBeenCalledTimes(loads + 1),
      );
      await advance(60_000);
      await waitFor(() =>
        expect(api.getStatus).toHaveBeenCalledTimes(loads + 2),
      );
    } finally {
      jest.useRealTimers();
    }
  });

  it('restarts a Deployment after confirmation', async () => {
    const api = render(<RolloutsContent />);
    await loaded();
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
        { headers: {} },
      ),
    );
    expect(
      await screen.findByText(
        'Restarted demo-api-blue at 2026-11-28T10:01:00Z.',
      ),
    ).toBeInTheDocument();
  });

  it('undoes to the revision the dialog showed', async () => {
    const api = render(<RolloutsContent />);
    await loaded();
    const [undo] = screen.getAllByRole('button', { name: 'Undo' });
    await userEvent.click(undo);
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog).getByText(/goes back to revision 3 \(/),
    ).toBeInTheDocument();
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Roll back' }),
    );
    await waitFor(() =>
      expect(api.undoDeployment).toHaveBeenCalledWith(
        { kind: 'Component', namespace: 'default', name: 'fastapi-demo' },
        {
          cluster: 'local',
          namespace: 'fastapi-demo',
          deployment: 'demo-api-blue',
          toRevision: '3',
        },
        { headers: {} },
      ),
    );
  });

  it('shows a paused Deployment as paused and offers no restart or undo for it', async () => {
    render(<RolloutsContent />, {
      entityName: 'paused-service',
      status: () => statusResponse({ bluePaused: true }),
    });
    await loaded();
    expect(screen.getByText(/^Paused · /)).toBeInTheDocument();
    // Only green (not paused) has the buttons.
    expect(screen.getAllByRole('button', { name: 'Restart' })).toHaveLength(1);
    expect(screen.getAllByRole('button', { name: 'Undo' })).toHaveLength(1);
  });

  it('hides restart and undo from users without the permission', async () => {
    const { authorize } = render(<RolloutsContent />, {
      allowed: false,
      entityName: 'restricted-service',
    });
    await loaded();
    await waitFor(() => expect(authorize).toHaveBeenCalledTimes(2));
    expect(
      screen.queryByRole('button', { name: 'Restart' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Undo' }),
    ).not.toBeInTheDocument();
    await openDetails('Blue-green');
    await waitFor(() => expect(authorize).toHaveBeenCalledTimes(3));
    expect(
      await screen.findByText(
        'Only the owners of this entity can switch or roll back traffic.',
      ),
    ).toBeInTheDocument();
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
    // The same states as the tab's summary
    expect(screen.getByText('Degraded')).toBeInTheDocument();
    expect(screen.getByText('At risk')).toBeInTheDocument();
    // blue: probe findings + crash loop + OOM kill; green: probe findings
    expect(screen.getByText('4 findings')).toBeInTheDocument();
    expect(screen.getByText('2 findings')).toBeInTheDocument();
    expect(
      screen.getByText(
        "prod: unreachable (The cluster's API server cannot be reached (listing pods).)",
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('demo-api: live slot', { exact: false }),
    ).toHaveTextContent('demo-api: live slot blue');
  });
});
