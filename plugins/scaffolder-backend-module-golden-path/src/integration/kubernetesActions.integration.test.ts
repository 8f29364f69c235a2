/*
 * The golden-path Kubernetes actions against the real cluster in KUBECONFIG, with the
 * identity of rbac/golden-path-scaffolder.yaml (its ClusterRole, bound to a throw-away
 * ServiceAccount): validate gets the API server's own errors, apply creates objects and
 * does not apply twice in a retried task, wait fails with ImagePullBackOff on a real node.
 *
 * Runs only when KUBECONFIG is set; scripts/test-kube-integration.sh (make test) sets it
 * for the local cluster, with KUBE_REAL_NODES and KUBE_TEST_IMAGE. Names start with
 * KUBE_IT_NAMESPACE_PREFIX (default scaffolder-it).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  createMockDirectory,
  mockServices,
} from '@backstage/backend-test-utils';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createKubernetesApplyAction } from '../actions/kubernetesApply';
import { createKubernetesValidateAction } from '../actions/kubernetesValidate';
import { createKubernetesWaitAction } from '../actions/kubernetesWait';
import { clusterConnector, KubeCluster } from '../kubernetes/clusterClient';
import { manifestChecksRunner } from '../kubernetes/manifestChecks';
import {
  KubernetesActionSettings,
  SYSTEM_NAMESPACES,
} from '../kubernetes/settings';
import { actionContext } from '../testUtils/actionContext';
import { checkpointStore } from '../testUtils/fakeKubeCluster';
import { createScaffolderIdentity } from './scaffolderIdentity';
import { fixtureManifests, FixtureService } from '../testUtils/kubeManifests';

const KUBECONFIG = process.env.KUBECONFIG;
const realNodes = Number(process.env.KUBE_REAL_NODES ?? '0');
const testImage = process.env.KUBE_TEST_IMAGE;
const REPO_ROOT = path.resolve(__dirname, '../../../..');

const missing = [
  !KUBECONFIG &&
    'KUBECONFIG is not set (scripts/test-kube-integration.sh sets it)',
  realNodes > 0 &&
    !testImage &&
    `KUBE_TEST_IMAGE is not set on a cluster with ${realNodes} real node(s)`,
].filter(Boolean);
if (missing.length > 0) {
  const what = `golden-path Kubernetes actions integration tests: ${missing.join(
    '; ',
  )}`;
  // scripts/test-kube-integration.sh (make test) sets it: the tests must run there.
  if (process.env.REQUIRE_KUBE_INTEGRATION) {
    throw new Error(
      `${what}. REQUIRE_KUBE_INTEGRATION is set: they must run, not be skipped.`,
    );
  }
  // eslint-disable-next-line no-console
  console.warn(`${what}: SKIPPED`);
}
const describeWithCluster = KUBECONFIG ? describe : describe.skip;
/** ImagePullBackOff needs a kubelet that really pulls: fake (kwok) nodes never do. */
const describeOnRealNodes = realNodes > 0 ? describe : describe.skip;
/** A rollout that converges: on a real node only with an image it has. */
const describeWithRunnablePods =
  realNodes === 0 || testImage ? describe : describe.skip;

describeWithCluster(
  'golden-path Kubernetes actions against a real cluster',
  () => {
    const id = `${
      process.env.KUBE_IT_NAMESPACE_PREFIX ?? 'scaffolder-it'
    }-${randomBytes(3).toString('hex')}`;
    const identityNs = `${id}-identity`;
    const dryRunNs = `${id}-dry-run`;
    const appNs = `${id}-app`;
    const pullNs = `${id}-pull`;
    const invalidNs = `${id}-invalid`;
    const namespaces = [dryRunNs, appNs, pullNs, invalidNs];
    const workspace = createMockDirectory();

    const kc = new KubeConfig();
    let core: CoreV1Api;
    let apps: AppsV1Api;
    let identity: Awaited<ReturnType<typeof createScaffolderIdentity>>;
    let settings: KubernetesActionSettings;
    /** Counts the actions' writes, as the API server would see them. */
    let writes: string[];

    const connect = async (): Promise<KubeCluster> => {
      const cluster = await clusterConnector(settings)();
      return {
        ...cluster,
        kindInfo: cluster.kindInfo.bind(cluster),
        getNamespace: cluster.getNamespace.bind(cluster),
        getObject: cluster.getObject.bind(cluster),
        listDeployments: cluster.listDeployments.bind(cluster),
        listReplicaSets: cluster.listReplicaSets.bind(cluster),
        listPods: cluster.listPods.bind(cluster),
        apply: async (object, options) => {
          if (!options.dryRun)
            writes.push(`${object.kind}/${object.metadata?.name}`);
          return cluster.apply(object, options);
        },
      };
    };

    const service = (
      name: string,
      namespace: string,
      image?: string,
    ): FixtureService => ({
      name,
      namespace,
      image: image ?? testImage ?? 'localhost/golden-path/busybox:1.35.0',
      ...(realNodes > 0 && {
        nodeSelector: { 'golden-path.dev/node': 'real' },
      }),
    });

    const validate = () =>
      createKubernetesValidateAction({
        connect,
        runManifestChecks: manifestChecksRunner(settings.manifestChecksScript),
        settings,
      });
    const apply = () =>
      createKubernetesApplyAction({
        connect,
        auth: mockServices.auth(),
        permissions: mockServices.permissions(),
        auditor: mockServices.auditor.mock(),
        settings,
      });
    const wait = () =>
      createKubernetesWaitAction({ connect, pollIntervalMs: 1000 });

    beforeAll(async () => {
      kc.loadFromFile(KUBECONFIG!);
      core = kc.makeApiClient(CoreV1Api);
      apps = kc.makeApiClient(AppsV1Api);

      // The documented identity: the ClusterRole of rbac/golden-path-scaffolder.yaml.
      identity = await createScaffolderIdentity({
        kc,
        name: id,
        namespace: identityNs,
      });
      await core.createNamespace({ body: { metadata: { name: dryRunNs } } });
      settings = {
        connection: identity.connection,
        fieldManager: 'backstage-golden-path',
        protectedNamespaces: SYSTEM_NAMESPACES,
        dryRunNamespace: dryRunNs,
        manifestChecksScript: path.join(
          REPO_ROOT,
          'tools/manifest-checks/check.sh',
        ),
        kubectl: process.env.KUBECTL || 'kubectl',
      };
    }, 60_000);

    beforeEach(() => {
      writes = [];
    });

    afterAll(async () => {
      if (!core) return;
      await Promise.allSettled([
        ...namespaces.map(name => core.deleteNamespace({ name })),
        identity?.remove(),
      ]);
    }, 60_000);

    function context<T extends Record<string, any>>(
      input: T,
      checkpoints = checkpointStore(),
    ) {
      return actionContext(input, {
        workspacePath: workspace.path,
        checkpoint: checkpoints.checkpoint,
      });
    }

    it("validate passes the project checks and the API server's dry-run, writing nothing", async () => {
      workspace.setContent({ k8s: fixtureManifests(service('web', appNs)) });
      const { ctx, outputs } = context({
        paths: ['k8s'],
        namespace: appNs,
        entityRef: 'component:default/web',
        policyChecks: true,
      });
      await validate().handler(ctx);
      expect(outputs().objects).toEqual([
        `k8s: Namespace/${appNs}`,
        'k8s: Service/web',
        'k8s: Deployment/web',
      ]);
      expect(writes).toEqual([]);
      await expect(core.readNamespace({ name: appNs })).rejects.toMatchObject({
        code: 404,
      });
    }, 120_000);

    it("validate fails with the API server's own messages for an invalid manifest, creating nothing", async () => {
      const files = fixtureManifests(service('web', invalidNs));
      const deployment = JSON.parse(files['deployment.yaml']);
      deployment.spec.replicas = -1;
      deployment.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
      workspace.setContent({
        k8s: { ...files, 'deployment.yaml': JSON.stringify(deployment) },
      });
      const { ctx } = context({
        paths: ['k8s'],
        namespace: invalidNs,
        entityRef: 'component:default/web',
        policyChecks: false,
      });
      const error = await validate()
        .handler(ctx)
        .catch(e => e);
      expect(error.name).toBe('InputError');
      expect(error.message).toMatch(
        /^The Kubernetes manifests have 1 problem; nothing was applied or published:\n- k8s: Deployment\/web: /,
      );
      // Strict field validation names the misspelt field; the value check names the field.
      expect(error.message).toMatch(
        /imagePullPolicyy: field not declared in schema/,
      );
      deployment.spec.template.spec.containers[0].imagePullPolicyy = undefined;
      workspace.setContent({
        k8s: { ...files, 'deployment.yaml': JSON.stringify(deployment) },
      });
      const invalidValue = await validate()
        .handler(
          context({
            paths: ['k8s'],
            namespace: invalidNs,
            entityRef: 'component:default/web',
            policyChecks: false,
          }).ctx,
        )
        .catch(e => e);
      expect(invalidValue.message).toMatch(
        /- k8s: Deployment\/web: Deployment\.apps "web" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0 \[422 Invalid\]/,
      );
      expect(writes).toEqual([]);
      await expect(
        core.readNamespace({ name: invalidNs }),
      ).rejects.toMatchObject({ code: 404 });
    }, 120_000);

    it('apply creates the objects; a retried task with the same checkpoint does not apply again', async () => {
      workspace.setContent({ k8s: fixtureManifests(service('web', appNs)) });
      const checkpoints = checkpointStore();
      const input = {
        path: 'k8s',
        namespace: appNs,
        entityRef: 'component:default/web',
      };
      await apply().handler(context(input, checkpoints).ctx);
      expect(writes).toEqual([
        `Namespace/${appNs}`,
        'Service/web',
        'Deployment/web',
      ]);

      const ns = await core.readNamespace({ name: appNs });
      expect(
        ns.metadata?.annotations?.['rollouts.backstage.io/entity-ref'],
      ).toBe('component:default/web');
      const created = await apps.readNamespacedDeployment({
        name: 'web',
        namespace: appNs,
      });
      expect(
        created.metadata?.managedFields?.map(f => [f.manager, f.operation]),
      ).toContainEqual(['backstage-golden-path', 'Apply']);

      // Someone else changes a field the apply owns: applying again would now be refused
      // with a conflict, so the retried task shows it did not apply at all.
      await apps.patchNamespacedDeployment({
        name: 'web',
        namespace: appNs,
        body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
      });
      writes = [];
      const retry = context(input, checkpoints);
      await apply().handler(retry.ctx);
      expect(writes).toEqual([]);
      expect(retry.messages('info')).toEqual([
        expect.stringMatching(
          /^These manifests were applied by an earlier attempt of this task/,
        ),
      ]);
      expect(
        (await apps.readNamespacedDeployment({ name: 'web', namespace: appNs }))
          .spec?.replicas,
      ).toBe(2);

      // Another task (no checkpoint) does reach the API server, which refuses to take the
      // field back without force.
      const other = await apply()
        .handler(context(input).ctx)
        .catch(e => e);
      expect(other.name).toBe('ConflictError');
      expect(other.message).toMatch(
        /^The API server refused Deployment\/web: .*\.spec\.replicas.* \[409 Conflict\]\. Applied before it: Namespace\/.*-app, Service\/web\.$/s,
      );
      await apps.patchNamespacedDeployment({
        name: 'web',
        namespace: appNs,
        body: [{ op: 'replace', path: '/spec/replicas', value: 1 }],
      });
    }, 120_000);

    describeWithRunnablePods('with pods that can run', () => {
      it('wait sees the applied Deployment roll out', async () => {
        const { ctx, outputs, messages } = context({
          namespace: appNs,
          timeoutSeconds: 120,
          failFastAfterSeconds: 60,
        });
        await wait().handler(ctx);
        expect(outputs()).toEqual({ deployments: ['web'] });
        expect(messages('info')).toContain(
          'deployment "web" successfully rolled out',
        );
      }, 150_000);
    });

    describeOnRealNodes('on a real node', () => {
      it('wait fails with ImagePullBackOff for an image that does not exist', async () => {
        workspace.setContent({
          k8s: fixtureManifests(
            service(
              'web',
              pullNs,
              'localhost/golden-path/does-not-exist:0.0.1',
            ),
          ),
        });
        await apply().handler(
          context({
            path: 'k8s',
            namespace: pullNs,
            entityRef: 'component:default/web',
          }).ctx,
        );
        // Long enough for the kubelet's first back-off after the failed pull (10 s).
        const { ctx, messages } = context({
          namespace: pullNs,
          timeoutSeconds: 120,
          failFastAfterSeconds: 25,
        });
        const error = await wait()
          .handler(ctx)
          .catch(e => e);
        expect(error.name).toBe('RolloutNotConvergedError');
        expect(error.message).toMatch(
          /^deployment\/web cannot roll out in namespace .*-pull: (ErrImagePull, )?ImagePullBackOff/,
        );
        expect(error.message).toMatch(
          /- deployment\/web: (ErrImagePull|ImagePullBackOff) \(pod\/web-[a-z0-9]+-[a-z0-9]+\): container app: The image cannot be pulled: .*localhost\/golden-path\/does-not-exist:0\.0\.1/,
        );
        expect(messages('warn').join('\n')).toMatch(
          /ImagePullBackOff|ErrImagePull/,
        );
      }, 150_000);
    });
  },
);
