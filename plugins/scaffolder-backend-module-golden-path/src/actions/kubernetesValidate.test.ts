import { createMockDirectory } from '@backstage/backend-test-utils';
import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import { validate as validateJson } from 'jsonschema';
import { KubeApiError } from '../kubernetes/clusterClient';
import { PolicyFinding, RunManifestChecks } from '../kubernetes/manifestChecks';
import { actionContext } from '../testUtils/actionContext';
import { FakeKubeCluster } from '../testUtils/fakeKubeCluster';
import { fixtureManifests, WEB_IN_SHOP } from '../testUtils/kubeManifests';
import { createKubernetesValidateAction } from './kubernetesValidate';

const ENTITY = 'component:default/web';
const DRY_RUN_NS = 'golden-path-dry-run';

const namespaceObject = (name: string, entityRef?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name,
    resourceVersion: '7',
    ...(entityRef && {
      annotations: { 'rollouts.backstage.io/entity-ref': entityRef },
    }),
  },
});

describe('golden-path:kubernetes:validate', () => {
  const workspace = createMockDirectory();
  let cluster: FakeKubeCluster;
  let findings: PolicyFinding[];
  let checks: jest.MockedFunction<RunManifestChecks>;

  beforeEach(() => {
    workspace.setContent({
      k8s: fixtureManifests(WEB_IN_SHOP),
    });
    cluster = new FakeKubeCluster([namespaceObject(DRY_RUN_NS)]);
    findings = [];
    checks = jest.fn<
      ReturnType<RunManifestChecks>,
      Parameters<RunManifestChecks>
    >(async () => findings);
  });

  const action = () =>
    createKubernetesValidateAction({
      connect: async () => cluster,
      runManifestChecks: checks,
      settings: {
        fieldManager: 'backstage-golden-path',
        protectedNamespaces: ['default', 'kube-system', 'backstage'],
        dryRunNamespace: DRY_RUN_NS,
        kubectl: process.env.KUBECTL || 'kubectl',
      },
    });

  async function run(
    input: Partial<{
      paths: string[];
      namespace: string;
      entityRef: string;
      policyChecks: boolean;
      catalogInfoPath: string;
    }> = {},
    isDryRun = false,
  ) {
    const context = actionContext(
      {
        paths: ['k8s'],
        namespace: 'shop',
        entityRef: ENTITY,
        policyChecks: true,
        ...input,
      },
      { workspacePath: workspace.path, isDryRun },
    );
    const promise = action().handler(context.ctx);
    return { ...context, promise };
  }

  describe('input schema (checked by the scaffolder before the step runs)', () => {
    const errorsFor = (input: object) =>
      validateJson(input, action().schema!.input!).errors.map(e => e.stack);

    it('accepts a complete input', () => {
      expect(
        errorsFor({ namespace: 'shop', entityRef: ENTITY, paths: ['k8s'] }),
      ).toEqual([]);
    });

    it('names each missing or malformed field', () => {
      expect(
        errorsFor({ paths: 'k8s', namespace: 'Shop_1', entityRef: 'web' }),
      ).toEqual([
        'instance.paths is not of a type(s) array',
        expect.stringMatching(/^instance\.namespace does not match pattern/),
        expect.stringMatching(/^instance\.entityRef does not match pattern/),
      ]);
      expect(errorsFor({})).toEqual([
        'instance requires property "namespace"',
        'instance requires property "entityRef"',
      ]);
    });
  });

  it('dry-runs every object of a new namespace in the dry-run namespace and writes nothing', async () => {
    const { promise, messages, outputs } = await run();
    await expect(promise).resolves.toBeUndefined();
    expect(cluster.writes()).toEqual([]);
    expect(
      cluster.applied.map(a => [
        a.object.kind,
        a.object.metadata?.namespace ?? a.object.metadata?.name,
        a.dryRun,
      ]),
    ).toEqual([
      ['Namespace', 'shop', true],
      ['Service', DRY_RUN_NS, true],
      ['Deployment', DRY_RUN_NS, true],
    ]);
    // The Namespace is checked exactly as apply sends it: marked as the entity's.
    expect(cluster.applied[0].object.metadata?.annotations).toMatchObject({
      'rollouts.backstage.io/entity-ref': ENTITY,
    });
    expect(messages('info')).toContain(
      `Namespace shop does not exist yet: its objects are dry-run in ${DRY_RUN_NS} (nothing is stored there).`,
    );
    expect(outputs()).toEqual({
      objects: [
        'k8s: Namespace/shop',
        'k8s: Service/web',
        'k8s: Deployment/web',
      ],
    });
  });

  it("dry-runs in the namespace itself when it exists and is the entity's", async () => {
    cluster.namespaces.set('shop', namespaceObject('shop', ENTITY));
    const { promise } = await run();
    await expect(promise).resolves.toBeUndefined();
    expect(
      cluster.applied.slice(1).map(a => a.object.metadata?.namespace),
    ).toEqual(['shop', 'shop']);
  });

  it('runs in the template editor too (supportsDryRun): it writes nothing either way', async () => {
    const { promise } = await run({}, true);
    await expect(promise).resolves.toBeUndefined();
    expect(action().supportsDryRun).toBe(true);
    expect(cluster.applied.every(a => a.dryRun)).toBe(true);
  });

  it("fails with the API server's own message for each refused object, and every other problem at once", async () => {
    cluster.refuse = object =>
      object.kind === 'Deployment'
        ? new KubeApiError(
            422,
            { reason: 'Invalid' },
            'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value',
          )
        : undefined;
    findings = [
      {
        kind: 'Deployment',
        name: 'web',
        rule: 'probes',
        message: "container 'app' has no readinessProbe",
        fix: 'add a readinessProbe',
      },
    ];
    cluster.namespaces.set(
      'shop',
      namespaceObject('shop', 'component:default/payments'),
    );
    const { promise } = await run();
    const error = await promise.catch(e => e);
    expect(error.name).toBe('InputError');
    const [headline, ...lines] = (error.message as string).split('\n');
    expect(headline).toBe(
      'The Kubernetes manifests have 3 problems; nothing was applied or published:',
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^- namespace shop already exists and is not component:default\/web's: /,
      ),
      "- k8s: Deployment/web: probes: container 'app' has no readinessProbe (fix: add a readinessProbe) [policy]",
      '- k8s: Deployment/web: Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value [422 Invalid]',
    ]);
    expect(cluster.writes()).toEqual([]);
  });

  it('refuses objects outside the namespace and kinds the cluster does not serve', async () => {
    workspace.setContent({
      extra: {
        'a.yaml': [
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata: {name: other, namespace: payments}',
          '---',
          'apiVersion: rbac.authorization.k8s.io/v1',
          'kind: ClusterRole',
          'metadata: {name: everything}',
          '---',
          'apiVersion: widgets.example.com/v1',
          'kind: Widget',
          'metadata: {name: w}',
        ].join('\n'),
      },
    });
    const { promise } = await run({ paths: ['extra'] });
    await expect(promise).rejects.toThrow(
      [
        'The Kubernetes manifests have 3 problems; nothing was applied or published:',
        '- extra: ConfigMap/other is in namespace payments: the template owns namespace shop only',
        '- extra: ClusterRole/everything is cluster-scoped: the golden-path actions apply only objects inside namespace shop (and that Namespace itself)',
        '- extra: Widget/w: the cluster serves no kind Widget in widgets.example.com/v1',
      ].join('\n'),
    );
    expect(cluster.applied).toEqual([]);
  });

  it('gives the policy checks the rendered manifests and the catalog-info.yaml, and can skip them', async () => {
    workspace.addContent({ 'catalog-info.yaml': 'kind: Component\n' });
    await (
      await run()
    ).promise;
    expect(checks).toHaveBeenCalledWith({
      text: expect.stringContaining('namespace: shop'),
      catalogInfo: workspace.resolve('catalog-info.yaml'),
      signal: undefined,
    });
    checks.mockClear();
    findings = [
      { kind: 'Deployment', name: 'web', rule: 'probes', message: 'no probes' },
    ];
    await expect(
      (
        await run({ policyChecks: false })
      ).promise,
    ).resolves.toBeUndefined();
    expect(checks).not.toHaveBeenCalled();
  });

  it.each([
    [{ namespace: 'kube-system' }, /namespace "kube-system" is protected/],
    [{ namespace: 'backstage' }, /namespace "backstage" is protected/],
    [{ namespace: DRY_RUN_NS }, /namespace "golden-path-dry-run" is protected/],
    [
      { entityRef: 'web' },
      /entityRef "web" is not a full entity ref: write kind:namespace\/name/,
    ],
    [
      { paths: ['../elsewhere'] },
      /Manifests path \.\.\/elsewhere is outside the task's workspace/,
    ],
    [
      { catalogInfoPath: 'nope.yaml' },
      /catalogInfoPath nope\.yaml is not a file in the task's workspace/,
    ],
  ])(
    'refuses bad input %# with a clear message, before the cluster sees anything',
    async (input, message) => {
      const { promise } = await run(input);
      await expect(promise).rejects.toThrow(message);
      expect(cluster.applied).toEqual([]);
    },
  );

  it('says how to create the dry-run namespace when it is missing', async () => {
    cluster.namespaces.delete(DRY_RUN_NS);
    const { promise } = await run();
    await expect(promise).rejects.toThrow(
      `Namespace shop does not exist yet, and the namespace for dry-runs of new namespaces' objects, ${DRY_RUN_NS}, does not exist either. ` +
        `Create it once (kubectl create namespace ${DRY_RUN_NS}; nothing is ever stored in it) or set goldenPath.kubernetes.dryRunNamespace.`,
    );
  });

  it('passes on API server warnings to the task log', async () => {
    const fake = cluster;
    const apply = fake.apply.bind(fake);
    fake.apply = async (object, options) => {
      const result = await apply(object, options);
      return object.kind === 'Deployment'
        ? {
            ...result,
            warnings: ['would violate PodSecurity "restricted:latest"'],
          }
        : result;
    };
    const { promise, messages } = await run();
    await promise;
    expect(messages('warn')).toEqual([
      'k8s: Deployment/web: API server warning: would violate PodSecurity "restricted:latest"',
    ]);
  });
});
