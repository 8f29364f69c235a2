import {
  FULL_SIZE,
  scaleApps,
  scaleDeployment,
  scaleNode,
  scalePods,
  scaleReplicaSets,
  totals,
} from './scaleWorkload';

describe('scale workload', () => {
  it('is 20,000 pods in 4,000 Deployments across 200 namespaces at full size', () => {
    const apps = scaleApps('h-scale-x', FULL_SIZE);
    expect(apps).toHaveLength(4000);
    expect(new Set(apps.map(a => a.namespace)).size).toBe(200);
    expect(totals(FULL_SIZE)).toEqual({ pods: 20000, replicaSets: 44000 });
    expect(new Set(apps.map(a => a.entityId)).size).toBe(4000);
  });

  it("gives each Deployment its history, the current ReplicaSet matching the Deployment's template", () => {
    const [app] = scaleApps('h-scale-x', { ...FULL_SIZE, deployments: 200 });
    const deployment = scaleDeployment(app, FULL_SIZE);
    const replicaSets = scaleReplicaSets(app, FULL_SIZE, 'uid-d');
    expect(replicaSets).toHaveLength(11);
    expect(replicaSets.map(rs => rs.spec?.replicas)).toEqual([
      ...Array(10).fill(0),
      5,
    ]);
    const current = replicaSets[10];
    // What the Deployment controller compares: templates without the hash label.
    const { 'pod-template-hash': hash, ...labels } =
      current.spec!.template!.metadata!.labels!;
    expect(hash).toBeDefined();
    expect({ ...current.spec!.template, metadata: { labels } }).toEqual(
      deployment.spec!.template,
    );
    expect(new Set(replicaSets.map(rs => rs.metadata!.name)).size).toBe(11);
    expect(current.metadata!.ownerReferences![0]).toMatchObject({
      uid: 'uid-d',
      controller: true,
    });
  });

  it("binds the current ReplicaSet's pods to a node, matching its selector", () => {
    const [app] = scaleApps('h-scale-x', FULL_SIZE);
    const current = scaleReplicaSets(app, FULL_SIZE, 'uid-d')[10];
    const pods = scalePods(
      app,
      FULL_SIZE,
      { name: current.metadata!.name!, uid: 'uid-rs' },
      'node-1',
    );
    expect(pods).toHaveLength(5);
    for (const p of pods) {
      expect(p.spec!.nodeName).toBe('node-1');
      expect(p.metadata!.labels).toMatchObject(
        current.spec!.selector!.matchLabels!,
      );
    }
  });

  it('places pods that a controller makes from the template on fake nodes only', () => {
    const [app] = scaleApps('h-scale-x', { ...FULL_SIZE, deployments: 200 });
    const template = scaleDeployment(app, FULL_SIZE).spec!.template.spec!;
    const node = scaleNode('h-scale-x-node-0', 100);
    // The scheduler's two checks: the node's labels match, its taint is tolerated.
    expect(template.nodeSelector).toEqual({ type: 'kwok' });
    for (const [key, value] of Object.entries(template.nodeSelector!)) {
      expect(node.metadata!.labels![key]).toBe(value);
    }
    for (const taint of node.spec!.taints!) {
      expect(template.tolerations).toContainEqual(
        expect.objectContaining({
          key: taint.key,
          value: taint.value,
          effect: taint.effect,
        }),
      );
    }
    // A real node (no type=kwok label) does not match.
    const realNodeLabels: Record<string, string> = {
      'golden-path.dev/node': 'real',
    };
    expect(
      Object.entries(template.nodeSelector!).every(
        ([k, v]) => realNodeLabels[k] === v,
      ),
    ).toBe(false);
  });

  it('refuses more namespaces than Deployments', () => {
    expect(() =>
      scaleApps('x', { ...FULL_SIZE, deployments: 10, namespaces: 20 }),
    ).toThrow(/cannot fill/);
  });
});
