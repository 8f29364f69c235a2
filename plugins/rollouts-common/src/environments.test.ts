import {
  compareEnvironmentNames,
  deriveEnvironments,
  DeploymentWithPods,
  environmentName,
  fluxReadiness,
  imageDigest,
  inventoryDeployments,
  revisionCommit,
} from './environments';
import { KubeCondition, KubeKustomization, KubePod } from './kube';

const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;
const OLD_SHA = '1111111111111111111111111111111111111111';
const NEW_SHA = '2222222222222222222222222222222222222222';

function kustomization(
  env: string,
  overrides: {
    conditions?: KubeCondition[];
    applied?: string;
    attempted?: string;
    inventory?: string[] | null;
    suspend?: boolean;
    path?: string;
    targetNamespace?: string;
    generation?: number;
    observedGeneration?: number;
  } = {},
): KubeKustomization {
  const inventory =
    overrides.inventory === undefined
      ? [`shop-${env}_shop_apps_Deployment`, `shop-${env}_shop__Service`]
      : overrides.inventory;
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: {
      name: `shop-${env}`,
      namespace: 'flux-system',
      generation: overrides.generation ?? 1,
    },
    spec: {
      path: overrides.path ?? `./overlays/${env}`,
      ...(overrides.suspend && { suspend: true }),
      ...(overrides.targetNamespace && {
        targetNamespace: overrides.targetNamespace,
      }),
    },
    status: {
      observedGeneration: overrides.observedGeneration ?? 1,
      conditions: overrides.conditions ?? [
        {
          type: 'Ready',
          status: 'True',
          reason: 'ReconciliationSucceeded',
          message: `Applied revision: main@sha1:${OLD_SHA}`,
        },
      ],
      lastAppliedRevision: overrides.applied ?? `main@sha1:${OLD_SHA}`,
      lastAttemptedRevision: overrides.attempted ?? `main@sha1:${OLD_SHA}`,
      ...(inventory !== null && {
        inventory: { entries: inventory.map(id => ({ id, v: 'v1' })) },
      }),
    },
  };
}

function pod(name: string, imageID: string, phase = 'Running'): KubePod {
  return {
    metadata: { name, namespace: 'shop-dev' },
    status: {
      phase,
      containerStatuses: [
        { name: 'app', ready: true, restartCount: 0, imageID },
      ],
    },
  };
}

function deployment(
  namespace: string,
  image: string,
  pods: KubePod[],
  replicas = { desired: 2, ready: 2 },
): DeploymentWithPods {
  return {
    deployment: {
      metadata: { name: 'shop', namespace },
      spec: {
        replicas: replicas.desired,
        template: { spec: { containers: [{ name: 'app', image }] } },
      },
      status: { readyReplicas: replicas.ready },
    },
    pods,
  };
}

const failing: KubeCondition[] = [
  {
    type: 'Ready',
    status: 'False',
    reason: 'HealthCheckFailed',
    message:
      'timeout waiting for: [Deployment/shop-dev/shop status: InProgress]',
  },
];

describe('environmentName and order', () => {
  it('names an environment after its overlay, else after the Kustomization', () => {
    expect(environmentName(kustomization('dev'))).toBe('dev');
    expect(environmentName(kustomization('qa', { path: 'overlays/qa/' }))).toBe(
      'qa',
    );
    expect(
      environmentName(kustomization('prod', { path: './deploy/prod' })),
    ).toBe('shop-prod');
    // Only an overlay folder itself names the environment.
    expect(
      environmentName(kustomization('dev', { path: './overlays/dev/patches' })),
    ).toBe('shop-dev');
    expect(
      environmentName(kustomization('dev', { path: './more-overlays/dev' })),
    ).toBe('shop-dev');
  });

  it('puts dev, staging, prod first, then the others alphabetically', () => {
    expect(
      ['zeta', 'prod', 'alpha', 'dev', 'staging'].sort(compareEnvironmentNames),
    ).toEqual(['dev', 'staging', 'prod', 'alpha', 'zeta']);
  });
});

describe('fluxReadiness', () => {
  it('is ready when Ready is True for the current spec', () => {
    expect(fluxReadiness(kustomization('dev'))).toEqual({
      state: 'ready',
      reason: 'ReconciliationSucceeded',
      message: `Applied revision: main@sha1:${OLD_SHA}`,
    });
  });

  it('is not ready when Ready is False, with its reason and message', () => {
    expect(
      fluxReadiness(kustomization('dev', { conditions: failing })),
    ).toEqual({
      state: 'not-ready',
      reason: 'HealthCheckFailed',
      message: failing[0].message,
    });
  });

  it('is reconciling while Ready is Unknown or the spec is newer than what Flux saw', () => {
    expect(
      fluxReadiness(
        kustomization('dev', {
          conditions: [
            { type: 'Ready', status: 'Unknown', reason: 'Progressing' },
          ],
        }),
      ).state,
    ).toBe('reconciling');
    expect(
      fluxReadiness(
        kustomization('dev', { generation: 2, observedGeneration: 1 }),
      ).state,
    ).toBe('reconciling');
    const neverObserved = kustomization('dev');
    delete neverObserved.status!.observedGeneration;
    expect(fluxReadiness(neverObserved).state).toBe('reconciling');
  });

  it('is suspended when the spec says so, whatever the conditions', () => {
    const state = fluxReadiness(kustomization('prod', { suspend: true }));
    expect(state.state).toBe('suspended');
    expect(state.message).toContain(
      'flux resume kustomization shop-prod -n flux-system',
    );
  });

  it('is unknown before Flux reported', () => {
    expect(fluxReadiness(kustomization('dev', { conditions: [] }))).toEqual({
      state: 'unknown',
      message: 'Flux has not reported on this Kustomization yet.',
    });
  });

  it('is not ready when Flux stalled, and reconciling while it says so', () => {
    const progressing = {
      type: 'Ready',
      status: 'Unknown',
      reason: 'Progressing',
    };
    expect(
      fluxReadiness(
        kustomization('dev', {
          conditions: [
            progressing,
            { type: 'Stalled', status: 'True', reason: 'BuildFailed' },
          ],
        }),
      ).state,
    ).toBe('not-ready');
    const ready = {
      type: 'Ready',
      status: 'True',
      reason: 'ReconciliationSucceeded',
    };
    expect(
      fluxReadiness(
        kustomization('dev', {
          conditions: [
            ready,
            { type: 'Reconciling', status: 'True', reason: 'Progressing' },
          ],
        }),
      ).state,
    ).toBe('reconciling');
    expect(
      fluxReadiness(
        kustomization('dev', {
          conditions: [
            ready,
            { type: 'Stalled', status: 'False' },
            { type: 'Reconciling', status: 'False' },
          ],
        }),
      ).state,
    ).toBe('ready');
  });
});

describe('revisions and digests', () => {
  it('reads the commit of both revision formats', () => {
    expect(revisionCommit(`main@sha1:${NEW_SHA}`)).toBe(NEW_SHA);
    expect(revisionCommit(`main/${NEW_SHA}`)).toBe(NEW_SHA);
    expect(revisionCommit('v1.0.0')).toBe('v1.0.0');
    // A commit ends the revision; a hex-looking part of a branch is not one.
    expect(revisionCommit('release/deadbeef-2')).toBe('release/deadbeef-2');
  });

  it('reads digests of references and imageIDs, not tags or local image IDs', () => {
    expect(imageDigest(`localhost/shop@${NEW}`)).toBe(NEW);
    expect(imageDigest(`docker-pullable://ghcr.io/o/shop@${NEW}`)).toBe(NEW);
    expect(imageDigest('ghcr.io/o/shop:0.1.0')).toBeUndefined();
    expect(imageDigest(OLD)).toBeUndefined();
    expect(imageDigest(`localhost/shop@${NEW}0`)).toBeUndefined();
    expect(imageDigest(undefined)).toBeUndefined();
  });

  it("lists only the Deployments of Flux's inventory, undefined without one", () => {
    expect(
      inventoryDeployments(
        kustomization('dev', {
          inventory: [
            'shop-dev_shop_apps_Deployment',
            'shop-dev_shop__Service',
            '_shop-dev__Namespace',
            'shop-dev_shop_autoscaling_HorizontalPodAutoscaler',
            'shop-dev_db_apps_StatefulSet',
            'shop-dev_legacy_extensions_Deployment',
          ],
        }),
      ),
    ).toEqual([{ namespace: 'shop-dev', name: 'shop' }]);
    expect(
      inventoryDeployments(kustomization('dev', { inventory: null })),
    ).toBeUndefined();
  });
});

describe('deriveEnvironments', () => {
  it('shows each environment with its revision, digest and ready pods, in promotion order', () => {
    const envs = deriveEnvironments(
      [kustomization('prod'), kustomization('dev'), kustomization('staging')],
      ['dev', 'staging', 'prod'].map(env =>
        deployment(`shop-${env}`, `localhost/shop@${OLD}`, [
          pod(`shop-${env}-1`, `localhost/shop@${OLD}`),
        ]),
      ),
    );
    expect(envs.map(e => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(envs[2]).toEqual({
      name: 'prod',
      kustomization: { namespace: 'flux-system', name: 'shop-prod' },
      path: './overlays/prod',
      flux: expect.objectContaining({ state: 'ready' }),
      revision: {
        applied: `main@sha1:${OLD_SHA}`,
        attempted: `main@sha1:${OLD_SHA}`,
      },
      workloadsFrom: 'inventory',
      workloads: [
        {
          namespace: 'shop-prod',
          name: 'shop',
          ready: 2,
          desired: 2,
          containers: [
            {
              name: 'app',
              image: `localhost/shop@${OLD}`,
              digest: OLD,
              running: [OLD],
              agreement: 'match',
            },
          ],
        },
      ],
    });
  });

  it('shows a new revision failing its health check while the old digest still serves', () => {
    const [dev] = deriveEnvironments(
      [
        kustomization('dev', {
          conditions: failing,
          attempted: `main@sha1:${NEW_SHA}`,
        }),
      ],
      [
        // Flux applied the new digest; its pod crashes, the old one serves.
        deployment(
          'shop-dev',
          `localhost/shop@${NEW}`,
          [
            pod('shop-dev-old', `localhost/shop@${OLD}`),
            pod('shop-dev-new', `localhost/shop@${NEW}`),
          ],
          { desired: 1, ready: 1 },
        ),
      ],
    );
    expect(dev.flux.state).toBe('not-ready');
    expect(dev.revision).toEqual({
      applied: `main@sha1:${OLD_SHA}`,
      attempted: `main@sha1:${NEW_SHA}`,
      newRevision: 'failing',
    });
    expect(dev.workloads[0].containers[0]).toMatchObject({
      digest: NEW,
      running: [OLD, NEW].sort(),
      agreement: 'mismatch',
    });
  });

  it("lists each container's digests in order, and the Deployments by name", () => {
    const sidecarFirst: KubePod = {
      metadata: { name: 'shop-dev-new', namespace: 'shop-dev' },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'proxy',
            ready: true,
            restartCount: 0,
            imageID: `envoy@sha256:${'c'.repeat(64)}`,
          },
          {
            name: 'app',
            ready: true,
            restartCount: 0,
            imageID: `localhost/shop@${NEW}`,
          },
        ],
      },
    };
    const api = deployment('shop-dev', `localhost/shop@${NEW}`, [
      sidecarFirst,
      pod('shop-dev-old', `localhost/shop@${OLD}`),
    ]);
    const worker = deployment('shop-dev', `localhost/shop@${OLD}`, []);
    worker.deployment.metadata!.name = 'aaa-worker';
    const [dev] = deriveEnvironments(
      [
        kustomization('dev', {
          inventory: [
            'shop-dev_shop_apps_Deployment',
            'shop-dev_aaa-worker_apps_Deployment',
          ],
        }),
      ],
      [api, worker],
    );
    expect(dev.workloads.map(w => w.name)).toEqual(['aaa-worker', 'shop']);
    expect(dev.workloads[1].containers[0].running).toEqual([OLD, NEW]);
  });

  it('calls a new revision progressing while Flux has not judged it', () => {
    const [dev] = deriveEnvironments(
      [
        kustomization('dev', {
          conditions: [
            { type: 'Ready', status: 'Unknown', reason: 'Progressing' },
          ],
          attempted: `main@sha1:${NEW_SHA}`,
        }),
      ],
      [],
    );
    expect(dev.revision.newRevision).toBe('progressing');
  });

  it('says a tag pins no digest, and ignores pods that are gone or report none', () => {
    const [dev] = deriveEnvironments(
      [kustomization('dev')],
      [
        deployment('shop-dev', 'localhost/shop:0.1.0', [
          pod('shop-dev-1', `localhost/shop@${OLD}`),
        ]),
        deployment('shop-other', `localhost/shop@${OLD}`, []),
      ],
    );
    expect(dev.workloads).toHaveLength(1);
    expect(dev.workloads[0].containers[0]).toMatchObject({
      image: 'localhost/shop:0.1.0',
      running: [OLD],
      agreement: 'unpinned',
    });
    expect(dev.workloads[0].containers[0].digest).toBeUndefined();

    const [pending] = deriveEnvironments(
      [kustomization('dev')],
      [
        deployment('shop-dev', `localhost/shop@${NEW}`, [
          pod('shop-dev-done', `localhost/shop@${OLD}`, 'Succeeded'),
          pod('shop-dev-evicted', `localhost/shop@${OLD}`, 'Failed'),
          pod('shop-dev-pulling', ''),
        ]),
      ],
    );
    expect(pending.workloads[0].containers[0]).toMatchObject({
      running: [],
      agreement: 'unreported',
    });
  });

  it('without an inventory finds Deployments by targetNamespace, else none', () => {
    const candidates = [
      deployment('shop-dev', `localhost/shop@${OLD}`, []),
      deployment('shop-prod', `localhost/shop@${OLD}`, []),
    ];
    const [byTarget] = deriveEnvironments(
      [
        kustomization('dev', {
          inventory: null,
          targetNamespace: 'shop-dev',
        }),
      ],
      candidates,
    );
    expect(byTarget.workloadsFrom).toBe('target-namespace');
    expect(byTarget.workloads.map(w => w.namespace)).toEqual(['shop-dev']);

    const [unknown] = deriveEnvironments(
      [kustomization('dev', { inventory: null })],
      candidates,
    );
    expect(unknown.workloadsFrom).toBe('none');
    expect(unknown.workloads).toEqual([]);
  });

  it('reads objects that carry next to nothing', () => {
    const [env] = deriveEnvironments(
      [
        {
          status: {
            conditions: [{ type: 'Ready', status: 'True' }],
            inventory: { entries: [{ id: '__apps_Deployment' }] },
          },
        },
      ],
      [
        {
          deployment: {
            spec: { template: { spec: { containers: [{ name: 'app' }] } } },
          },
          pods: [{}],
        },
      ],
    );
    expect(env).toEqual({
      name: '',
      kustomization: { namespace: '', name: '' },
      flux: { state: 'ready' },
      revision: {},
      workloadsFrom: 'inventory',
      workloads: [
        {
          namespace: '',
          name: '',
          ready: 0,
          desired: 1,
          containers: [
            { name: 'app', image: '', running: [], agreement: 'unpinned' },
          ],
        },
      ],
    });
  });

  it('keeps a suspended environment with the revision it last applied', () => {
    const [prod] = deriveEnvironments(
      [kustomization('prod', { suspend: true })],
      [],
    );
    expect(prod.flux.state).toBe('suspended');
    expect(prod.revision.applied).toBe(`main@sha1:${OLD_SHA}`);
    expect(prod.revision.newRevision).toBeUndefined();
  });
});
