/*
 * The rollouts plugin on real containers (a real node of the local cluster):
 * a failing liveness probe makes the kubelet restart the container, and an
 * allocation past the memory limit gets it OOMKilled with exit code 137; the
 * plugin's status shows both, as the page does. The demo app (deploy/demo/app)
 * misbehaves on request through its /chaos routes.
 *
 * Needs DEMO_APP_IMAGE: the demo app's image, imported into the nodes
 * (scripts/test-kube-integration.sh builds and imports it and sets it).
 */
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  ContainerHealth,
  ENTITY_REF_ANNOTATION,
  KubePod,
} from '@golden-path/plugin-rollouts-common';
import { randomBytes } from 'node:crypto';
import { InformerClusterRegistry } from '../services/clusters/ClusterRegistry';
import { entitySelection } from '../services/entitySelection';
import { StatusService } from '../services/status/StatusService';
import { readRolloutsSettings } from '../settings';
import {
  AdminClients,
  adminClients,
  createNamespace,
  eventually,
  fresh,
  identity,
  KUBE_INTEGRATION_REQUIRED,
  KUBECONFIG,
  prerequisite,
  REAL_NODES,
  ROLLOUTS_READ_RULES,
  waitForRollout,
} from './fixture';

const IMAGE = process.env.DEMO_APP_IMAGE;
// Required where the cluster has real nodes: the script then builds and imports the image.
const describeOnRealNodes =
  KUBECONFIG &&
  prerequisite(
    Boolean(IMAGE),
    'The rollouts real-pod tests need DEMO_APP_IMAGE (run them through scripts/test-kube-integration.sh, which builds the demo app image and imports it into the real nodes)',
    KUBE_INTEGRATION_REQUIRED && REAL_NODES > 0,
  )
    ? describe
    : describe.skip;

describeOnRealNodes('the rollouts plugin on real pods', () => {
  const id = `rollouts-real-${randomBytes(3).toString('hex')}`;
  const ns = id;
  const entityRef = `component:default/${id}`;
  let admin: AdminClients;
  let reader: Awaited<ReturnType<typeof identity>>;
  let registry: InformerClusterRegistry;
  let status: StatusService;
  const timings: Record<string, number> = {};

  const selection = entitySelection({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: id, annotations: { 'backstage.io/kubernetes-id': id } },
  })!;

  /** What the plugin shows for one pod's container (the page's data). */
  function shown(pod: string): ContainerHealth | undefined {
    const [cluster] = status.getStatus(entityRef, selection).clusters;
    return cluster.deployments
      .flatMap(d => d.pods)
      .find(p => p.pod === pod)
      ?.containers.find(c => c.container === 'api');
  }

  async function runningPods(): Promise<KubePod[]> {
    const list = await fresh<{ items: KubePod[] } & any>(
      admin,
      `/api/v1/namespaces/${ns}/pods`,
    );
    return list.items.filter(
      (p: KubePod) =>
        p.status?.phase === 'Running' &&
        p.status.containerStatuses?.[0]?.ready &&
        !p.metadata?.deletionTimestamp,
    );
  }

  /** A POST to the demo app in one pod, from the host (which routes pod IPs). */
  async function chaos(pod: KubePod, path: string) {
    const url = `http://${pod.status!.podIP}:8000${path}`;
    await fetch(url, { method: 'POST', signal: AbortSignal.timeout(5000) })
      // The OOM request never answers: the container dies while it allocates.
      .catch(() => undefined);
  }

  beforeAll(async () => {
    admin = adminClients();
    await createNamespace(admin, ns);
    const labels = {
      'app.kubernetes.io/name': 'chaos',
      'backstage.io/kubernetes-id': id,
    };
    await admin.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: {
          name: 'chaos',
          labels,
          annotations: { [ENTITY_REF_ANNOTATION]: entityRef },
        },
        spec: {
          replicas: 2,
          selector: { matchLabels: { 'app.kubernetes.io/name': 'chaos' } },
          template: {
            metadata: { labels },
            spec: {
              nodeSelector: { 'golden-path.dev/node': 'real' },
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 10001,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: 'api',
                  image: IMAGE!,
                  imagePullPolicy: 'IfNotPresent',
                  ports: [{ name: 'http', containerPort: 8000 }],
                  env: [
                    { name: 'DEMO_CHAOS', value: 'true' },
                    { name: 'STARTUP_DELAY_SECONDS', value: '0' },
                    { name: 'DRAIN_SECONDS', value: '0' },
                  ],
                  resources: {
                    requests: { cpu: '50m', memory: '64Mi' },
                    limits: { cpu: '500m', memory: '128Mi' },
                  },
                  livenessProbe: {
                    httpGet: { path: '/health', port: 'http' as any },
                    periodSeconds: 2,
                    failureThreshold: 2,
                    // A /health that answers 500 restarts the container as fast
                    // whatever the timeout; a slow answer on a busy node must not
                    // (1 s restarted a pod no test had touched, in a CI run).
                    timeoutSeconds: 5,
                  },
                  readinessProbe: {
                    httpGet: { path: '/ready', port: 'http' as any },
                    periodSeconds: 2,
                  },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ['ALL'] },
                  },
                },
              ],
            },
          },
        },
      },
    });
    const t0 = Date.now();
    await waitForRollout(admin, ns, 'chaos');
    timings.deploymentAvailableMs = Date.now() - t0;

    reader = await identity(admin, ns, 'rollouts-reader', {
      clusterRules: ROLLOUTS_READ_RULES,
    });
    registry = InformerClusterRegistry.fromKubeConfigs(
      [{ name: 'local', kubeConfig: reader.kubeConfig }],
      mockServices.logger.mock(),
      { namespaces: [ns] },
    );
    await registry.start();
    status = new StatusService(
      registry,
      readRolloutsSettings(
        new ConfigReader({ rollouts: { switchTimeoutSeconds: 10 } }),
      ),
    );
    await eventually(
      () => {
        if (registry.get('local')!.health().state !== 'ok') {
          throw new Error('not synced');
        }
      },
      30_000,
      'informers to sync',
    );
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    // eslint-disable-next-line no-console
    console.info(`rollouts real-pod timings: ${JSON.stringify(timings)}`);
    await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await reader?.cleanup();
  }, 60_000);

  it('a failing liveness probe restarts the container, and the plugin shows the restart', async () => {
    const [pod] = await runningPods();
    const name = pod.metadata!.name!;
    expect(shown(name)).toMatchObject({ restartCount: 0, ready: true });
    const t0 = Date.now();
    await chaos(pod, '/chaos/unhealthy');
    const after = await eventually(
      () => {
        const c = shown(name);
        if (!c || c.restartCount < 1) throw new Error(JSON.stringify(c));
        return c;
      },
      90_000,
      'the kubelet to restart the container',
    );
    timings.livenessRestartMs = Date.now() - t0;
    expect(after.restartCount).toBe(1);
    // The app exits cleanly on the kubelet's SIGTERM: the last state says so.
    expect(after.lastTerminationReason).toEqual(expect.any(String));
    expect(after.lastExitCode).toEqual(expect.any(Number));
    expect(after.oomKilled).toBe(false);
  }, 120_000);

  it('a container that allocates past its memory limit is OOMKilled with exit code 137, and the plugin shows it', async () => {
    // The pod with the fewest restarts; the kills are counted from its own count,
    // so a restart the test did not cause (a busy node) does not matter.
    const restarts = (p: KubePod) =>
      p.status!.containerStatuses![0].restartCount ?? 0;
    const [pod] = await eventually(
      async () => {
        const pods = await runningPods();
        if (pods.length === 0) throw new Error('no pod is running and ready');
        return pods.sort((a, b) => restarts(a) - restarts(b));
      },
      60_000,
      'a running, ready pod',
    );
    const name = pod.metadata!.name!;
    const restartsBefore = restarts(pod);
    const findings = () =>
      status
        .getStatus(entityRef, selection)
        .clusters[0].deployments[0].findings.filter(f => f.pod === name);
    const t0 = Date.now();
    // containerd 1.6 on cgroup v1 (Debian 12's, on this node) sometimes loses
    // the OOM event of a container it then sees exit, and reports the kill as
    // reason Error (containerd/containerd#8893, fixed upstream by #12714; seen
    // here once, in a cold CI run with the node busy). The plugin then shows the exit 137
    // as a SIGKILL, which is checked here too. Two such runs are allowed; the
    // third must say OOMKilled.
    const kills: { shown: ContainerHealth; findings: string[] }[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await chaos(pod, '/chaos/oom');
      const after = await eventually(
        () => {
          const c = shown(name);
          // Shown while terminated, and still (as the last state) once restarted.
          if (
            !c ||
            c.restartCount < restartsBefore + attempt ||
            c.lastExitCode === undefined
          )
            throw new Error(JSON.stringify(c));
          return c;
        },
        60_000,
        'the kernel to kill the container and the kubelet to restart it',
      );
      kills.push({ shown: after, findings: findings().map(f => f.code) });
      if (after.oomKilled) break;
      // The next allocation needs the restarted container to answer.
      await eventually(
        () => {
          if (!shown(name)?.ready) throw new Error(JSON.stringify(shown(name)));
        },
        60_000,
        'the restarted container to be ready',
      );
    }
    timings.oomKilledMs = Date.now() - t0;
    timings.oomAttempts = kills.length;
    // Each kill: exit code 137, one restart more, shown with its finding; all
    // but the last with the runtime's lost-event reason, the last OOMKilled.
    expect(kills.map(k => k.shown)).toEqual(
      kills.map((_, i) =>
        expect.objectContaining({
          lastExitCode: 137,
          restartCount: restartsBefore + i + 1,
          lastTerminationReason: i === kills.length - 1 ? 'OOMKilled' : 'Error',
        }),
      ),
    );
    expect(kills.at(-1)!.shown.oomKilled).toBe(true);
    expect(kills.map(k => k.findings)).toEqual(
      kills.map((_, i) =>
        expect.arrayContaining([
          i === kills.length - 1 ? 'oom-killed' : 'sigkill',
        ]),
      ),
    );
  }, 300_000);
});
