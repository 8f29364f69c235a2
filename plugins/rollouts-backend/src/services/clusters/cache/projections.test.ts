import { ConfigReader } from '@backstage/config';
import {
  deriveRolloutStatus,
  KubeDeployment,
  KubePod,
  podHealth,
} from '@golden-path/plugin-rollouts-common';
import { readRolloutsSettings } from '../../../settings';
import {
  demoCluster,
  demoEntity,
  ENTITY_REF,
} from '../../../testUtils/demoCluster';
import { FakeCluster } from '../../../testUtils/FakeCluster';
import {
  GITOPS_ENTITY_REF,
  gitopsCluster,
  gitopsEntity,
} from '../../../testUtils/gitopsCluster';
import { entitySelection } from '../../entitySelection';
import { StatusService } from '../../status/StatusService';
import { RESOURCE_KINDS } from '../types';
import { projectObject } from './projections';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A pod as the API server sends it: far more than any view reads. */
const apiPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'api-7d9c-abcde',
    generateName: 'api-7d9c-',
    namespace: 'team-a',
    uid: 'uid-pod',
    resourceVersion: '42',
    creationTimestamp: '2026-11-20T10:00:00Z',
    labels: { app: 'api', 'pod-template-hash': '7d9c' },
    annotations: {
      'kubectl.kubernetes.io/restartedAt': '2026-11-20T09:59:00Z',
    },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'api-7d9c',
        uid: 'uid-rs',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
    managedFields: [{ manager: 'kube-controller-manager', fieldsV1: {} }],
  },
  spec: {
    volumes: [{ name: 'tmp', emptyDir: {} }],
    containers: [
      {
        name: 'api',
        image: 'ghcr.io/example/api:1.0.0',
        env: [{ name: 'LOG_LEVEL', value: 'debug' }],
        ports: [{ name: 'http', containerPort: 8000, protocol: 'TCP' }],
        resources: { requests: { cpu: '100m' }, limits: { memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
        livenessProbe: { httpGet: { path: '/health', port: 'http' } },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        securityContext: { readOnlyRootFilesystem: true },
        terminationMessagePath: '/dev/termination-log',
      },
    ],
    nodeName: 'kwok-node-1',
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }],
    securityContext: { runAsNonRoot: true },
    dnsPolicy: 'ClusterFirst',
  },
  status: {
    phase: 'Running',
    hostIP: '10.0.0.1',
    podIP: '10.244.0.7',
    podIPs: [{ ip: '10.244.0.7' }],
    qosClass: 'Burstable',
    startTime: '2026-11-20T10:00:01Z',
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        lastTransitionTime: '2026-11-20T10:00:02Z',
      },
    ],
    containerStatuses: [
      {
        name: 'api',
        ready: false,
        started: true,
        restartCount: 7,
        image: 'ghcr.io/example/api:1.0.0',
        imageID: 'ghcr.io/example/api@sha256:abc',
        containerID: 'containerd://123',
        state: {
          waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' },
        },
        lastState: { terminated: { reason: 'Error', exitCode: 1 } },
      },
    ],
  },
};

/** The same cluster as the cache holds it: every object projected. */
function projectedCopy(full: FakeCluster): FakeCluster {
  return new FakeCluster(
    'local',
    Object.fromEntries(
      RESOURCE_KINDS.map(kind => [
        kind,
        full.list(kind).map(o => projectObject(kind, o)),
      ]),
    ),
  );
}

function statusService(cluster: FakeCluster) {
  return new StatusService(
    { list: () => [cluster], get: () => cluster, skipped: () => [] },
    readRolloutsSettings(new ConfigReader({})),
  );
}

describe('projectObject', () => {
  it('keeps of a pod only what the views read', () => {
    const slim = projectObject('pods', apiPod);
    // No apiVersion and kind: list items have none, and nothing reads them.
    expect(slim).toEqual({
      metadata: {
        name: 'api-7d9c-abcde',
        namespace: 'team-a',
        uid: 'uid-pod',
        resourceVersion: '42',
        labels: apiPod.metadata.labels,
        ownerReferences: [
          { kind: 'ReplicaSet', uid: 'uid-rs', controller: true },
        ],
      },
      spec: { nodeName: 'kwok-node-1' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'api',
            ready: false,
            started: true,
            restartCount: 7,
            imageID: 'ghcr.io/example/api@sha256:abc',
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' },
            },
            lastState: { terminated: { reason: 'Error', exitCode: 1 } },
          },
        ],
      },
    });
    expect(podHealth(slim)).toEqual(podHealth(apiPod as KubePod));
  });

  it("drops kubectl's last-applied copy but keeps the annotations object", () => {
    const deployment: KubeDeployment = {
      metadata: {
        name: 'api',
        annotations: { [LAST_APPLIED]: JSON.stringify(apiPod) },
      },
      spec: { replicas: 2 },
      status: {
        replicas: 2,
        conditions: [{ type: 'Available', status: 'True' }],
      },
    };
    const slim = projectObject('deployments', deployment);
    // A patch planned from the cache adds to /metadata/annotations only if it exists.
    expect(slim.metadata?.annotations).toEqual({});
    expect(deriveRolloutStatus(slim)).toEqual(deriveRolloutStatus(deployment));
  });

  it('keeps of a ReplicaSet its revision, owner and images only', () => {
    const slim = projectObject('replicasets', {
      metadata: {
        name: 'api-7d9c',
        labels: { app: 'api', 'pod-template-hash': '7d9c' },
        annotations: {
          'deployment.kubernetes.io/revision': '3',
          'deployment.kubernetes.io/desired-replicas': '2',
        },
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'api' } },
        template: { metadata: { labels: { app: 'api' } }, spec: apiPod.spec },
      },
      status: { replicas: 2, readyReplicas: 2, fullyLabeledReplicas: 2 },
    });
    const apiShape = {
      metadata: {
        name: 'api-7d9c',
        annotations: { 'deployment.kubernetes.io/revision': '3' },
      },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'api', image: 'ghcr.io/example/api:1.0.0' }],
          },
        },
      },
    };
    // The spec is kept compact; it reads, and serializes, as the API's.
    expect(slim.spec?.template).toEqual(apiShape.spec.template);
    expect(JSON.parse(JSON.stringify(slim))).toEqual(apiShape);
  });

  it("reads a ReplicaSet's containers, however many, as the API lists them", () => {
    const containers = (list: object[] | undefined) =>
      projectObject('replicasets', {
        metadata: { name: 'rs' },
        spec: { template: { spec: { containers: list } } },
      }).spec?.template?.spec?.containers;
    expect(containers([])).toEqual([]);
    expect(containers(undefined)).toEqual([]);
    const two = [
      { name: 'api', image: 'api:2', env: [{ name: 'A', value: '1' }] },
      { name: 'proxy', image: 'envoy:1' },
    ];
    expect(containers(two)).toEqual([
      { name: 'api', image: 'api:2' },
      { name: 'proxy', image: 'envoy:1' },
    ]);
    // Each read is a copy of its own: a reader cannot change the cache.
    const rs = projectObject('replicasets', {
      metadata: { name: 'rs' },
      spec: { template: { spec: { containers: two } } },
    });
    rs.spec!.template!.spec!.containers[0].image = 'changed';
    expect(rs.spec?.template?.spec?.containers[0].image).toBe('api:2');
    expect(
      projectObject('replicasets', { metadata: { name: 'no-spec' } }).spec,
    ).toBeUndefined();
  });

  it("keeps of a Deployment's conditions all but their timestamps", () => {
    const slim = projectObject('deployments', {
      metadata: { name: 'api' },
      status: {
        replicas: 2,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "api-7d9c" has timed out progressing.',
            lastUpdateTime: '2026-11-20T09:13:02Z',
            lastTransitionTime: '2026-11-20T09:12:44Z',
          },
        ],
      },
    });
    expect(slim.status).toEqual({
      replicas: 2,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "api-7d9c" has timed out progressing.',
        },
      ],
    });
  });

  it("keeps of a Deployment's pod template its labels, annotations and containers, and no metadata where it has none", () => {
    const template = (t: object) =>
      projectObject('deployments', { spec: { template: t } }).spec!.template!;
    const full = template({
      metadata: {
        labels: { app: 'api' },
        annotations: { 'kubectl.kubernetes.io/restartedAt': 'T' },
        creationTimestamp: null,
      },
      spec: {
        initContainers: [{ name: 'migrate', image: 'm:1', env: [] }],
        containers: [{ name: 'api', image: 'a:1', imagePullPolicy: 'Always' }],
        dnsPolicy: 'ClusterFirst',
      },
    });
    expect(full).toEqual({
      metadata: {
        labels: { app: 'api' },
        annotations: { 'kubectl.kubernetes.io/restartedAt': 'T' },
      },
      spec: {
        initContainers: [{ name: 'migrate', image: 'm:1' }],
        containers: [{ name: 'api', image: 'a:1' }],
      },
    });
    // planRestart adds /spec/template/metadata when there is none.
    const bare = template({ spec: { containers: [] } });
    expect(bare.metadata).toBeUndefined();
    expect(bare.spec?.initContainers).toBeUndefined();
  });

  it('shares the Ready condition between pods whose statuses differ', () => {
    const pod = (name: string, imageID: string) =>
      projectObject('pods', {
        ...apiPod,
        metadata: { ...apiPod.metadata, name },
        status: {
          ...apiPod.status,
          containerStatuses: [
            { ...apiPod.status.containerStatuses[0], imageID },
          ],
        },
      }).status!;
    const [a, b] = [pod('a', 'api@sha256:aaa'), pod('b', 'api@sha256:bbb')];
    expect(b).not.toBe(a);
    expect(b.containerStatuses![0].imageID).toBe('api@sha256:bbb');
    expect(b.conditions).toBe(a.conditions);
    expect(b.conditions).toEqual([{ type: 'Ready', status: 'False' }]);
  });

  it("shares equal strategies and containers' ports, resources and probes of Deployments", () => {
    const deployment = (name: string, readyPath: string) =>
      projectObject('deployments', {
        metadata: { name },
        spec: {
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
          },
          template: {
            spec: {
              containers: [
                {
                  name: 'api',
                  image: `ghcr.io/example/${name}:1.0.0`,
                  ports: [{ name: 'http', containerPort: 8000 }],
                  resources: { requests: { cpu: '10m' } },
                  readinessProbe: { httpGet: { path: readyPath, port: 8000 } },
                },
              ],
            },
          },
        },
      }).spec!;
    const [a, b, c] = [
      deployment('a', '/ready'),
      deployment('b', '/ready'),
      deployment('c', '/health'),
    ];
    expect(b.strategy).toBe(a.strategy);
    const [ac, bc, cc] = [a, b, c].map(d => d.template!.spec!.containers[0]);
    expect(bc.image).toBe('ghcr.io/example/b:1.0.0');
    expect(bc.ports).toBe(ac.ports);
    expect(bc.resources).toBe(ac.resources);
    expect(bc.readinessProbe).toBe(ac.readinessProbe);
    expect(cc.readinessProbe).not.toBe(ac.readinessProbe);
    expect(cc.readinessProbe).toEqual({
      httpGet: { path: '/health', port: 8000 },
    });
  });

  it('keeps of a Kustomization the entity ref, its state and its Deployments', () => {
    const [full] = gitopsCluster()
      .list('kustomizations')
      .filter(k => k.metadata?.name === 'shop-prod');
    expect(projectObject('kustomizations', full)).toEqual({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: {
        name: 'shop-prod',
        namespace: 'flux-system',
        uid: 'uid-ks-prod',
        resourceVersion: expect.any(String),
        generation: 1,
        labels: full.metadata?.labels,
        annotations: {
          'rollouts.backstage.io/entity-ref': 'component:default/shop',
        },
      },
      spec: { path: './overlays/prod', targetNamespace: 'shop-prod' },
      status: {
        observedGeneration: 1,
        lastAppliedRevision: full.status?.lastAppliedRevision,
        lastAttemptedRevision: full.status?.lastAttemptedRevision,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'ReconciliationSucceeded',
            message: full.status?.conditions?.[0].message,
          },
        ],
        inventory: { entries: [{ id: 'shop-prod_shop_apps_Deployment' }] },
      },
    });
  });

  it('GitOps environments from projected objects equal those from full objects', () => {
    const full = gitopsCluster();
    const selection = entitySelection(gitopsEntity)!;
    const environmentsOf = (cluster: FakeCluster) =>
      statusService(cluster).getStatus(GITOPS_ENTITY_REF, selection).clusters[0]
        .gitops;
    const fromFull = environmentsOf(full);
    expect(fromFull?.environments).toHaveLength(3);
    expect(
      fromFull?.environments[0].workloads[0].containers[0].running,
    ).toHaveLength(2);
    expect(environmentsOf(projectedCopy(full))).toEqual(fromFull);
  });

  it('status from projected objects equals status from full objects', () => {
    const full = demoCluster({ preview: true });
    full.put(
      'pods',
      {
        ...apiPod,
        metadata: {
          ...apiPod.metadata,
          namespace: 'fastapi-demo',
          labels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
        },
      } as KubePod,
      false,
    );
    const selection = entitySelection(demoEntity)!;
    const statusOf = (cluster: FakeCluster) => {
      const status = statusService(cluster).getStatus(ENTITY_REF, selection);
      return { ...status, generatedAt: undefined };
    };
    const fullStatus = statusOf(full);
    expect(fullStatus.clusters[0].deployments).toHaveLength(2);
    expect(fullStatus.clusters[0].blueGreen).toHaveLength(1);
    expect(statusOf(projectedCopy(full))).toEqual(fullStatus);
  });
});
