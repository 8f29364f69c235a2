import { renderInTestApp } from '@backstage/frontend-test-utils';
import {
  ClusterEnvironments,
  DigestAgreement,
  EnvironmentView,
  EnvironmentWorkload,
  imageDigest,
} from '@golden-path/plugin-rollouts-common';
import { screen, within } from '@testing-library/react';
import { EnvironmentsPanel } from './EnvironmentsPanel';

const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;
const OLD_REVISION = `main@sha1:${'1'.repeat(40)}`;
const NEW_REVISION = `main@sha1:${'2'.repeat(40)}`;
const GITEA = 'url:http://127.0.0.1:3300/golden-path/shop/src/branch/main/';

/** The `shop` Deployment of an environment: one container running `image`. */
function shop(
  env: string,
  image: string,
  pods: { running: string[]; agreement: DigestAgreement; ready: number },
): EnvironmentWorkload {
  const digest = imageDigest(image);
  const { running, agreement, ready } = pods;
  const container = { name: 'app', image, running, agreement };
  return {
    namespace: `shop-${env}`,
    name: 'shop',
    ready,
    desired: 2,
    containers: [digest ? { ...container, digest } : container],
  };
}

function environment(
  name: string,
  overrides: Partial<EnvironmentView> = {},
): EnvironmentView {
  return {
    name,
    kustomization: { namespace: 'flux-system', name: `shop-${name}` },
    path: `./overlays/${name}`,
    flux: {
      state: 'ready',
      reason: 'ReconciliationSucceeded',
      message: `Applied revision: ${OLD_REVISION}`,
    },
    revision: { applied: OLD_REVISION, attempted: OLD_REVISION },
    workloadsFrom: 'inventory',
    workloads: [
      shop(name, `localhost/shop@${OLD}`, {
        running: [OLD],
        agreement: 'match',
        ready: 2,
      }),
    ],
    ...overrides,
  };
}

const failingDev = environment('dev', {
  flux: {
    state: 'not-ready',
    reason: 'HealthCheckFailed',
    message:
      'timeout waiting for: [Deployment/shop-dev/shop status: InProgress]',
  },
  revision: {
    applied: OLD_REVISION,
    attempted: NEW_REVISION,
    newRevision: 'failing',
  },
  workloads: [
    shop('dev', `localhost/shop@${NEW}`, {
      running: [OLD, NEW],
      agreement: 'mismatch',
      ready: 1,
    }),
  ],
});

async function renderPanel(
  gitops: ClusterEnvironments | undefined,
  sourceLocation?: string,
) {
  return renderInTestApp(
    <EnvironmentsPanel gitops={gitops} sourceLocation={sourceLocation} />,
  );
}

const rowOf = (name: string) =>
  screen.getByRole('row', { name: new RegExp(`^${name}`) });

describe('EnvironmentsPanel', () => {
  it('shows each environment with its Flux state, revision, digest and ready pods', async () => {
    await renderPanel(
      {
        flux: 'installed',
        environments: [
          environment('dev'),
          environment('staging'),
          environment('prod'),
        ],
      },
      GITEA,
    );
    expect(screen.getAllByRole('rowheader').map(h => h.textContent)).toEqual([
      'devKustomization flux-system/shop-dev',
      'stagingKustomization flux-system/shop-staging',
      'prodKustomization flux-system/shop-prod',
    ]);
    const prod = within(rowOf('prod'));
    const chip = prod.getByText('Ready · ReconciliationSucceeded');
    expect(chip).toHaveAttribute('data-tone', 'success');
    expect(chip).toHaveAttribute('title', `Applied revision: ${OLD_REVISION}`);
    // Short forms, the full ones on hover.
    expect(prod.getByText('1111111')).toHaveAttribute('title', OLD_REVISION);
    expect(prod.getByText('sha256:aaaaaaaaaaaa')).toHaveAttribute(
      'title',
      `localhost/shop@${OLD}`,
    );
    expect(prod.getByText('2/2')).toBeInTheDocument();
    expect(prod.queryByText(/not the digest Git names/)).toBeNull();
    // Promotion is a pull request in Git, never a button here.
    expect(
      screen.getByRole('link', { name: 'Promotion pull requests' }),
    ).toHaveAttribute('href', 'http://127.0.0.1:3300/golden-path/shop/pulls');
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('shows an unhealthy environment: the failure, the failing revision and the digest the pods really run', async () => {
    await renderPanel({
      flux: 'installed',
      environments: [failingDev, environment('prod')],
    });
    const dev = within(rowOf('dev'));
    expect(dev.getByText('Not ready · HealthCheckFailed')).toHaveAttribute(
      'data-tone',
      'danger',
    );
    // The message of a failure is shown, not only on hover.
    expect(
      dev.getByText(
        'timeout waiting for: [Deployment/shop-dev/shop status: InProgress]',
      ),
    ).toBeInTheDocument();
    expect(
      dev.getByText(
        "2222222 failed; the last healthy revision's pods may still serve",
      ),
    ).toHaveAttribute('title', NEW_REVISION);
    expect(dev.getByText('sha256:bbbbbbbbbbbb')).toBeInTheDocument();
    expect(
      dev.getByText('Pods run sha256:aaaaaaaaaaaa, not the digest Git names'),
    ).toBeInTheDocument();
    expect(dev.getByText('1/2')).toBeInTheDocument();
    // Without a source location there is no link to guess.
    expect(screen.queryByRole('link')).toBeNull();
  });

  it('shows a tag and an environment Flux has not applied yet', async () => {
    await renderPanel({
      flux: 'installed',
      environments: [
        environment('dev', {
          workloads: [
            shop('dev', 'localhost/shop:0.1.0', {
              running: [OLD],
              agreement: 'unpinned',
              ready: 2,
            }),
          ],
        }),
        environment('prod', {
          flux: {
            state: 'suspended',
            message: 'resume it',
          },
          workloadsFrom: 'none',
          workloads: [],
        }),
      ],
    });
    const dev = within(rowOf('dev'));
    expect(dev.getByText('localhost/shop:0.1.0')).toBeInTheDocument();
    expect(dev.getByText('Git names a tag, not a digest')).toBeInTheDocument();
    const prod = within(rowOf('prod'));
    expect(prod.getByText('Suspended')).toHaveAttribute('data-tone', 'warning');
    expect(
      prod.getByText('Flux reported no inventory yet'),
    ).toBeInTheDocument();
  });

  it('says when Flux is not installed, and shows nothing for an entity without environments', async () => {
    const { unmount } = await renderPanel({
      flux: 'not-installed',
      environments: [],
    });
    expect(
      screen.getByText(
        'GitOps environments: Flux is not installed in this cluster (it serves no Kustomizations).',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
    unmount();

    await renderPanel({ flux: 'installed', environments: [] });
    expect(screen.queryByText(/GitOps environments/)).toBeNull();
    expect(screen.queryByText('Environments')).toBeNull();
  });
});
