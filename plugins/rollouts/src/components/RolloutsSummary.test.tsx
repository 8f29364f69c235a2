import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { statusResponse } from '../testing/fixtures';
import { renderRollouts as render } from '../testing/renderRollouts';
import { DETAIL_VIEWS } from './ClusterDetails';
import { RolloutsContent } from './RolloutsContent';

// react-aria tabs and userEvent are slow on a busy 2-core CI machine.
jest.setTimeout(30_000);

/** The first cluster's summary: the first table of the page. */
function summaryTable(): HTMLElement {
  return screen.getAllByRole('grid')[0];
}

/** The summary row of a workload, by its name. */
function summaryRow(name: string): HTMLElement {
  const row = within(summaryTable())
    .getAllByRole('row')
    .find(r => within(r).queryByText(name, { exact: true }));
  if (!row) throw new Error(`no summary row for ${name}`);
  return row;
}

/** The tabs of the first cluster's details views. */
function detailTabs(): HTMLElement[] {
  return within(
    screen.getByRole('tablist', { name: 'Details of cluster local' }),
  ).getAllByRole('tab');
}

/**
 * Axe's violations in the page, as `rule: targets` lines so a failure says
 * where. Two rules need what this test does not have: colour contrast a real
 * layout engine (the browser test checks it), `region` the portal page around
 * the tab, whose <main> landmark holds it.
 */
async function axeViolations(): Promise<string[]> {
  const results = await axe.run(document.body, {
    rules: {
      'color-contrast': { enabled: false },
      region: { enabled: false },
    },
  });
  return results.violations.map(
    v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`,
  );
}

describe('the Rollouts tab summary', () => {
  it('shows each workload with its state in words and colour, every reason, ready/desired, restarts, quota and slot', async () => {
    render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    // Worst first: blue crashes (degraded), green only feels the quota (at risk).
    expect(
      within(summaryTable())
        .getAllByRole('rowheader')
        .map(h => h.textContent),
    ).toEqual(['demo-api-bluefastapi-demo', 'demo-api-greenfastapi-demo']);

    const blue = summaryRow('demo-api-blue');
    expect(within(blue).getByText('Degraded')).toBeInTheDocument();
    expect(
      within(blue).getByText('api keeps crashing (CrashLoopBackOff) in 1 pod.'),
    ).toBeInTheDocument();
    expect(
      within(
        within(blue).getByRole('list', { name: 'More about demo-api-blue' }),
      )
        .getAllByRole('listitem')
        .map(li => li.textContent),
    ).toEqual([
      'api was OOMKilled in its last run in 1 pod.',
      'Containers restarted 5 times.',
      'Quota quota: requests.cpu 95% used (1900m of 2), a rollout or scale-up may not fit.',
    ]);
    expect(within(blue).getByText('2 / 2')).toBeInTheDocument();
    expect(within(blue).getByText('5')).toBeInTheDocument();
    expect(
      within(blue).getByRole('meter', {
        name: 'Most used quota of demo-api-blue: requests.cpu',
      }),
    ).toHaveAttribute('aria-valuenow', '95');
    expect(within(blue).getByText('demo-api: blue, live')).toBeInTheDocument();

    const green = summaryRow('demo-api-green');
    expect(within(green).getByText('At risk')).toBeInTheDocument();
    expect(
      within(green).getByText('demo-api: green, idle'),
    ).toBeInTheDocument();
    expect(within(green).getByText('0')).toBeInTheDocument();

    // The cluster header counts them.
    expect(screen.getByText('1 degraded · 1 at risk')).toBeInTheDocument();
    expect(screen.getByText('Connected')).toBeInTheDocument();
    expect(screen.getByText('Unreachable')).toBeInTheDocument();
  });

  it('colours a state by its tone', async () => {
    render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    const degraded = within(summaryRow('demo-api-blue')).getByText('Degraded');
    const atRisk = within(summaryRow('demo-api-green')).getByText('At risk');
    expect(degraded).toHaveAttribute('data-tone', 'danger');
    expect(degraded).toHaveStyle({
      background: 'var(--bui-negative-bg-subdued)',
    });
    expect(atRisk).toHaveAttribute('data-tone', 'warning');
    expect(atRisk).toHaveStyle({
      background: 'var(--bui-warning-bg-subdued)',
    });
  });

  it('shows long values whole, wrapped, never cut with an ellipsis', async () => {
    render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    const [image] = await screen.findAllByText(
      'api: ghcr.io/example/fastapi-demo:1.0.0',
    );
    expect(image).not.toHaveAttribute('data-truncate', 'true');
    expect(image).toHaveStyle({ overflowWrap: 'anywhere' });
  });
});

describe('the Rollouts tab details', () => {
  it('has one tab per view, the Deployments first, and shows one view at a time', async () => {
    render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    const tabs = detailTabs();
    expect(tabs.map(t => t.textContent)).toEqual([
      'Deployments',
      'Pods & probes (1)',
      'Resources & quota',
      'Autoscaling (1)',
      'Blue-green (1)',
      'Events (1)',
    ]);
    await waitFor(() =>
      expect(tabs[0]).toHaveAttribute('aria-selected', 'true'),
    );
    expect(screen.getAllByRole('button', { name: 'Restart' })).toHaveLength(2);

    await userEvent.click(tabs[5]);
    expect(
      await screen.findByText('Back-off restarting failed container api'),
    ).toBeInTheDocument();
    // The Deployments view is gone: one view at a time.
    expect(
      screen.queryByRole('button', { name: 'Restart' }),
    ).not.toBeInTheDocument();
    expect(screen.getByRole('tabpanel')).toHaveTextContent(
      'Pod/demo-api-blue-7d4b-abcde',
    );
  });

  it('moves between tabs with the arrow keys and opens one with Enter', async () => {
    render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    const tabs = detailTabs();
    act(() => tabs[0].focus());
    await userEvent.keyboard('{ArrowRight}{ArrowRight}{ArrowRight}');
    expect(tabs[3]).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() =>
      expect(tabs[3]).toHaveAttribute('aria-selected', 'true'),
    );
    expect(screen.getByText('2 / 3 (2–5)')).toBeInTheDocument();
  });

  it('says why a view is empty', async () => {
    render(<RolloutsContent />, {
      entityName: 'no-extras',
      status: () => {
        const r = statusResponse();
        r.clusters[0] = {
          ...r.clusters[0],
          blueGreen: [],
          hpas: [],
          warningEvents: [],
        };
        return r;
      },
    });
    await screen.findByText('Cluster local');
    await userEvent.click(screen.getByRole('tab', { name: 'Blue-green (0)' }));
    expect(
      await screen.findByText(
        /No blue-green pair: none of these Services selects its pods by the slot label app.kubernetes.io\/slot/,
      ),
    ).toBeInTheDocument();
    await userEvent.click(screen.getByRole('tab', { name: 'Autoscaling (0)' }));
    expect(
      await screen.findByText(
        /No HorizontalPodAutoscaler scales these Deployments/,
      ),
    ).toBeInTheDocument();
    await userEvent.click(screen.getByRole('tab', { name: 'Events (0)' }));
    expect(await screen.findByText(/No Warning events/)).toBeInTheDocument();
  });
});

describe('the Rollouts tab states', () => {
  it('announces the first load to screen readers', async () => {
    render(<RolloutsContent />, { status: () => new Promise<never>(() => {}) });
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Loading rollouts…',
    );
  });

  it('says what failed and what to do, and retries', async () => {
    let fail = true;
    const api = render(<RolloutsContent />, {
      status: () =>
        fail
          ? Promise.reject(
              new Error('Request failed with 503 Service Unavailable'),
            )
          : statusResponse(),
    });
    expect(
      await screen.findByText('Could not load rollouts'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /Request failed with 503 Service Unavailable\. Retry in a moment; if it keeps failing, check that the rollouts backend plugin is installed and running/,
      ),
    ).toBeInTheDocument();
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('Cluster local')).toBeInTheDocument();
    expect(api.getStatus).toHaveBeenCalledTimes(2);
  });

  it('says what to do when a cluster has none of the entity Deployments', async () => {
    render(<RolloutsContent />, {
      status: () => {
        const r = statusResponse();
        r.clusters = [{ ...r.clusters[0], deployments: [] }];
        return r;
      },
    });
    expect(
      await screen.findByText('No Deployment of this entity in cluster local'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /finds Deployments by the entity's backstage.io\/kubernetes-id annotation/,
      ),
    ).toBeInTheDocument();
    // The pair is still there, to switch away from a missing slot.
    expect(
      screen.getByRole('tab', { name: 'Blue-green (1)' }),
    ).toBeInTheDocument();
  });

  it('says how to add a cluster when none is configured', async () => {
    render(<RolloutsContent />, {
      status: () => ({ ...statusResponse(), clusters: [] }),
    });
    expect(
      await screen.findByText('No cluster configured'),
    ).toBeInTheDocument();
    expect(screen.queryByRole('tablist')).not.toBeInTheDocument();
  });
});

describe('the Rollouts tab accessibility', () => {
  it('has no axe violations in the summary or any details view', async () => {
    render(<RolloutsContent />);
    await screen.findByText('Cluster local');
    expect(await axeViolations()).toEqual([]);
    for (const view of DETAIL_VIEWS.slice(1)) {
      const [tab] = screen.getAllByRole('tab', {
        name: new RegExp(`^${view.label}`),
      });
      await userEvent.click(tab);
      await waitFor(() => expect(tab).toHaveAttribute('aria-selected', 'true'));
      expect({ view: view.id, violations: await axeViolations() }).toEqual({
        view: view.id,
        violations: [],
      });
    }
  });

  it('has no axe violations while loading', async () => {
    render(<RolloutsContent />, { status: () => new Promise<never>(() => {}) });
    await screen.findByRole('status');
    expect(await axeViolations()).toEqual([]);
  });

  it('has no axe violations after a failed load', async () => {
    render(<RolloutsContent />, {
      status: () => Promise.reject(new Error('Request failed')),
    });
    await screen.findByText('Could not load rollouts');
    expect(await axeViolations()).toEqual([]);
  });
});
