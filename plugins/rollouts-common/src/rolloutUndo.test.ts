import { KubeReplicaSet } from './kube';
import { ENTITY_REF_ANNOTATION } from './ownership';
import { ownedReplicaSets, planUndo } from './rolloutUndo';
import { demoDeployment } from './testFixtures';

function replicaSetFor(
  revision: string,
  image: string,
  hash: string,
  extraAnnotations: Record<string, string> = {},
): KubeReplicaSet {
  const d = demoDeployment('green');
  const template = JSON.parse(JSON.stringify(d.spec!.template));
  template.metadata.labels['pod-template-hash'] = hash;
  template.spec.containers[0].image = image;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `demo-api-green-${hash}`,
      namespace: 'fastapi-demo',
      labels: { ...template.metadata.labels },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '2',
        'deployment.kubernetes.io/max-replicas': '3',
        'deployment.kubernetes.io/revision': revision,
        ...extraAnnotations,
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'demo-api-green',
          uid: 'uid-demo-api-green',
          controller: true,
        },
      ],
    },
    spec: { replicas: revision === '3' ? 2 : 0, template },
  };
}

const deployment = () => {
  const d = demoDeployment('green', {
    revision: '3',
    image: 'ghcr.io/example/fastapi-demo:2.1.0',
  });
  d.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration'] =
    '{"kind":"Deployment"}';
  return d;
};

const history = [
  replicaSetFor('1', 'ghcr.io/example/fastapi-demo:1.9.0', '6c8f7d9b4', {
    'kubernetes.io/change-cause': 'first',
  }),
  replicaSetFor('3', 'ghcr.io/example/fastapi-demo:2.1.0', '7d4b9c6f5d'),
  replicaSetFor('2', 'ghcr.io/example/fastapi-demo:2.0.0', '5f9c8b7a6', {
    'kubernetes.io/change-cause': 'bump to 2.0.0',
  }),
  // A ReplicaSet of another Deployment
  {
    ...replicaSetFor('7', 'other:1', 'aaaa'),
    metadata: {
      name: 'other-aaaa',
      annotations: { 'deployment.kubernetes.io/revision': '7' },
      ownerReferences: [
        {
          kind: 'Deployment',
          name: 'other',
          uid: 'uid-other',
          controller: true,
        },
      ],
    },
  },
];

describe('ownedReplicaSets', () => {
  it('keeps the Deployment’s ReplicaSets, newest revision first', () => {
    expect(
      ownedReplicaSets(deployment(), history).map(rs => rs.metadata!.name),
    ).toEqual([
      'demo-api-green-7d4b9c6f5d',
      'demo-api-green-5f9c8b7a6',
      'demo-api-green-6c8f7d9b4',
    ]);
  });

  it('keeps only ReplicaSets the Deployment controls that have a revision number', () => {
    const rs = (revision: string, hash: string) =>
      replicaSetFor(revision, 'ghcr.io/example/fastapi-demo:2.0.0', hash);
    const adopted = rs('12', 'adopted');
    // Owned by something else too; the Deployment is its controller.
    adopted.metadata!.ownerReferences!.unshift({
      kind: 'ConfigMap',
      name: 'x',
      uid: 'uid-x',
    });
    const notControlled = rs('11', 'notcontrolled');
    notControlled.metadata!.ownerReferences![0].controller = false;
    const noRevision = rs('10', 'norevision');
    delete noRevision.metadata!.annotations![
      'deployment.kubernetes.io/revision'
    ];
    const names = ownedReplicaSets(deployment(), [
      rs('9', 'nine'),
      adopted,
      notControlled,
      noRevision,
      rs('x1', 'prefixed'),
      rs('1x', 'suffixed'),
    ]).map(r => r.metadata!.name);
    expect(names).toEqual(['demo-api-green-adopted', 'demo-api-green-nine']);
  });
});

describe('planUndo', () => {
  it('goes back to the previous revision like kubectl rollout undo', () => {
    const plan = planUndo(deployment(), history);
    if (!plan.allowed) throw new Error(plan.reason);
    expect(plan).toMatchObject({
      fromRevision: '3',
      toRevision: '2',
      replicaSet: 'demo-api-green-5f9c8b7a6',
      skipped: false,
    });
    expect(plan.patch[0]).toEqual({
      op: 'test',
      path: '/metadata/generation',
      value: 3,
    });
    const template = plan.patch[1] as { op: string; path: string; value: any };
    expect(template.op).toBe('replace');
    expect(template.path).toBe('/spec/template');
    expect(template.value.spec.containers[0].image).toBe(
      'ghcr.io/example/fastapi-demo:2.0.0',
    );
    // The hash label belongs to the ReplicaSet, not to the Deployment.
    expect(template.value.metadata.labels['pod-template-hash']).toBeUndefined();
    expect(plan.patch[2]).toEqual({
      op: 'replace',
      path: '/metadata/annotations',
      value: {
        // kept from the Deployment
        'deployment.kubernetes.io/revision': '3',
        'kubectl.kubernetes.io/last-applied-configuration':
          '{"kind":"Deployment"}',
        // copied from the ReplicaSet
        'kubernetes.io/change-cause': 'bump to 2.0.0',
      },
    });
  });

  it('keeps the ownership annotation of the Deployment, even when the old ReplicaSet has another or none', () => {
    const d = deployment();
    d.metadata!.annotations![ENTITY_REF_ANNOTATION] =
      'component:default/fastapi-demo';
    const older = replicaSetFor(
      '2',
      'ghcr.io/example/fastapi-demo:2.0.0',
      '5f9c8b7a6',
      { [ENTITY_REF_ANNOTATION]: 'component:default/someone-else' },
    );
    for (const rs of [history[2], older]) {
      const plan = planUndo(d, [history[1], rs]);
      if (!plan.allowed) throw new Error(plan.reason);
      expect(plan.patch[2]).toMatchObject({
        path: '/metadata/annotations',
        value: expect.objectContaining({
          [ENTITY_REF_ANNOTATION]: 'component:default/fastapi-demo',
        }),
      });
    }
  });

  it('goes to an explicit revision, and refuses an unknown one', () => {
    const plan = planUndo(deployment(), history, '1');
    expect(plan).toMatchObject({ allowed: true, toRevision: '1' });
    expect(planUndo(deployment(), history, '9')).toEqual({
      allowed: false,
      code: 'unknown-revision',
      reason:
        'Revision 9 of Deployment demo-api-green is not in its history (kept: 3, 2, 1).',
    });
  });

  it('skips when the template already equals the target', () => {
    const plan = planUndo(deployment(), history, '3');
    expect(plan).toMatchObject({ allowed: true, skipped: true, patch: [] });
  });

  it('compares templates whatever the order of their fields', () => {
    const d = deployment();
    const reordered = JSON.parse(JSON.stringify(history[1].spec!.template));
    const { ports, ...rest } = reordered.spec.containers[0];
    reordered.spec.containers[0] = { ports, ...rest };
    delete reordered.metadata.labels['pod-template-hash'];
    d.spec!.template = { spec: reordered.spec, metadata: reordered.metadata };
    expect(planUndo(d, history, '3')).toMatchObject({ skipped: true });
  });

  it('rolls back to a template without metadata', () => {
    const bare = replicaSetFor('2', 'ghcr.io/example/fastapi-demo:2.0.0', 'b');
    delete bare.spec!.template!.metadata;
    const plan = planUndo(deployment(), [history[1], bare]);
    expect(plan.allowed && plan.patch[1]).toMatchObject({
      value: {
        spec: { containers: [{ image: 'ghcr.io/example/fastapi-demo:2.0.0' }] },
      },
    });
  });

  it('drops annotations of the Deployment the old revision did not have', () => {
    const d = deployment();
    d.metadata!.annotations!['kubernetes.io/change-cause'] = 'bump to 2.1.0';
    d.metadata!.annotations!['team.example.com/on-call'] = 'web';
    const plan = planUndo(d, history);
    expect(plan.allowed && plan.patch[2]).toEqual({
      op: 'replace',
      path: '/metadata/annotations',
      value: {
        'deployment.kubernetes.io/revision': '3',
        'kubectl.kubernetes.io/last-applied-configuration':
          '{"kind":"Deployment"}',
        'kubernetes.io/change-cause': 'bump to 2.0.0',
      },
    });
  });

  it("keeps the Deployment's own rollout bookkeeping annotations", () => {
    const d = deployment();
    d.metadata!.annotations!['deployment.kubernetes.io/revision-history'] = '1';
    d.metadata!.annotations!['deprecated.deployment.rollback.to'] = '0';
    const older = replicaSetFor(
      '2',
      'ghcr.io/example/fastapi-demo:2.0.0',
      'c',
      {
        'deployment.kubernetes.io/revision-history': '7,8',
        'deprecated.deployment.rollback.to': '5',
      },
    );
    const plan = planUndo(d, [history[1], older]);
    expect(plan.allowed && plan.patch[2]).toMatchObject({
      value: {
        'deployment.kubernetes.io/revision-history': '1',
        'deprecated.deployment.rollback.to': '0',
      },
    });
  });

  it('refuses without history and for paused Deployments', () => {
    expect(planUndo(deployment(), [history[1]])).toEqual({
      allowed: false,
      code: 'no-history',
      reason:
        'No rollout history found for Deployment demo-api-green: there is no earlier revision to go back to.',
    });
    expect(planUndo(deployment(), [], '2')).toMatchObject({
      reason:
        'Revision 2 of Deployment demo-api-green is not in its history (kept: none).',
    });
    const paused = deployment();
    paused.spec!.paused = true;
    expect(planUndo(paused, history)).toEqual({
      allowed: false,
      code: 'paused',
      reason:
        'Deployment demo-api-green is paused; resume it (kubectl rollout resume deployment/demo-api-green) before rolling it back.',
    });
  });
});
