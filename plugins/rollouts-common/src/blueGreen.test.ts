import {
  detectBlueGreen,
  planRollback,
  planSwitch,
  PREVIOUS_SLOT_ANNOTATION,
  trafficConverged,
} from './blueGreen';
import { escapeJsonPointerToken, jsonPointer } from './jsonPatch';
import {
  demoDeployment,
  demoEndpointSlice,
  demoPod,
  demoService,
} from './testFixtures';

const bluePods = [demoPod('blue', 'aaaaa'), demoPod('blue', 'bbbbb')];
const greenPods = [demoPod('green', 'ccccc'), demoPod('green', 'ddddd')];
const pods = [...bluePods, ...greenPods];

function detect(
  overrides: {
    service?: ReturnType<typeof demoService>;
    green?: ReturnType<typeof demoDeployment>;
    endpoints?: { name: string; ready: boolean }[];
  } = {},
) {
  const result = detectBlueGreen({
    services: [overrides.service ?? demoService('blue')],
    deployments: [
      demoDeployment('blue', { revision: '3' }),
      overrides.green ?? demoDeployment('green', { revision: '5' }),
      // Unrelated Deployment in the same namespace
      {
        metadata: { name: 'demo-web', namespace: 'fastapi-demo' },
        spec: {
          template: {
            metadata: { labels: { 'app.kubernetes.io/name': 'demo-web' } },
          },
        },
      },
    ],
    pods,
    endpointSlices: [
      demoEndpointSlice(
        'demo-api',
        overrides.endpoints ??
          bluePods.map(p => ({ name: p.metadata!.name!, ready: true })),
      ),
    ],
  });
  expect(result).toHaveLength(1);
  return result[0];
}

describe('jsonPointer', () => {
  it('escapes ~ and / in reference tokens', () => {
    expect(escapeJsonPointerToken('app.kubernetes.io/slot')).toBe(
      'app.kubernetes.io~1slot',
    );
    expect(escapeJsonPointerToken('a~b/c')).toBe('a~0b~1c');
    expect(jsonPointer('spec', 'selector', 'x/y')).toBe('/spec/selector/x~1y');
  });
});

describe('detectBlueGreen', () => {
  it('finds the pair, the live slot, what each slot runs and the traffic', () => {
    const bg = detect();
    expect(bg).toMatchObject({
      namespace: 'fastapi-demo',
      service: 'demo-api',
      slotLabel: 'app.kubernetes.io/slot',
      liveSlot: 'blue',
      selectorSlot: 'blue',
      trafficSlots: ['blue'],
      unknownEndpoints: 0,
      problems: [],
      hasAnnotations: false,
    });
    expect(bg.previousSlot).toBeUndefined();
    expect(bg.slots).toEqual([
      expect.objectContaining({
        slot: 'blue',
        deployment: 'demo-api-blue',
        live: true,
        revision: '3',
        images: [
          { container: 'api', image: 'ghcr.io/example/fastapi-demo:1.0.0' },
        ],
        readyForTraffic: true,
        readyEndpoints: 2,
      }),
      expect.objectContaining({
        slot: 'green',
        deployment: 'demo-api-green',
        live: false,
        revision: '5',
        images: [
          { container: 'api', image: 'ghcr.io/example/fastapi-demo:2.0.0' },
        ],
        readyForTraffic: true,
        readyEndpoints: 0,
      }),
    ]);
    expect(trafficConverged(bg, 'blue')).toBe(true);
    expect(trafficConverged(bg, 'green')).toBe(false);
  });

  it('ignores Services whose selector has no slot label', () => {
    const svc = demoService('blue');
    delete svc.spec!.selector!['app.kubernetes.io/slot'];
    expect(
      detectBlueGreen({
        services: [svc],
        deployments: [demoDeployment('blue')],
      }),
    ).toEqual([]);
  });

  it('uses a configurable slot label', () => {
    const svc = demoService('blue');
    svc.spec!.selector = {
      'app.kubernetes.io/name': 'demo-api',
      color: 'blue',
    };
    const blue = demoDeployment('blue');
    blue.spec!.template!.metadata!.labels!.color = 'blue';
    const green = demoDeployment('green');
    green.spec!.template!.metadata!.labels!.color = 'green';
    const [bg] = detectBlueGreen({
      services: [svc],
      deployments: [blue, green],
      slotLabel: 'color',
    });
    expect(bg.slots.map(s => s.slot)).toEqual(['blue', 'green']);
    expect(bg.liveSlot).toBe('blue');
  });

  it('explains when the idle slot is not rolled out or not available', () => {
    const rolling = detect({
      green: demoDeployment('green', {
        status: {
          observedGeneration: 3,
          replicas: 3,
          updatedReplicas: 1,
          availableReplicas: 2,
        },
      }),
    });
    const green = rolling.slots.find(s => s.slot === 'green')!;
    expect(green.readyForTraffic).toBe(false);
    expect(green.notReadyReason).toBe(
      'Waiting for deployment "demo-api-green" rollout to finish: 1 out of 2 new replicas have been updated...',
    );

    const scaledDown = detect({
      green: demoDeployment('green', {
        replicas: 0,
        status: { observedGeneration: 3 },
      }),
    });
    expect(scaledDown.slots[1].notReadyReason).toBe(
      'the Deployment is scaled to 0 replicas',
    );
  });

  it('reports a missing second slot and a selector that names no Deployment', () => {
    const [bg] = detectBlueGreen({
      services: [demoService('purple')],
      deployments: [demoDeployment('blue')],
    });
    expect(bg.liveSlot).toBeUndefined();
    expect(bg.problems).toEqual([
      "Found 1 slot(s) for the selector; a blue-green pair needs two Deployments whose pod labels differ only in 'app.kubernetes.io/slot'.",
      'The Service selects app.kubernetes.io/slot=purple, but no single Deployment runs that slot: the Service has no backing pods.',
    ]);
  });

  it('reports a slot claimed by two Deployments', () => {
    const dup = demoDeployment('green');
    dup.metadata!.name = 'demo-api-green-copy';
    const [bg] = detectBlueGreen({
      services: [demoService('blue')],
      deployments: [demoDeployment('blue'), demoDeployment('green'), dup],
    });
    expect(bg.problems[0]).toMatch(/Slot 'green' is claimed by 2 Deployments/);
    expect(bg.slots.map(s => s.slot)).toEqual(['blue']);
  });

  it('counts endpoints per slot while traffic moves', () => {
    const bg = detect({
      service: demoService('green'),
      endpoints: [
        { name: bluePods[0].metadata!.name!, ready: true },
        { name: greenPods[0].metadata!.name!, ready: true },
        { name: greenPods[1].metadata!.name!, ready: false },
        { name: 'unknown-pod', ready: true },
      ],
    });
    expect(bg.trafficSlots).toEqual(['blue', 'green']);
    expect(bg.unknownEndpoints).toBe(1);
    expect(trafficConverged(bg, 'green')).toBe(false);
  });
});

describe('planSwitch', () => {
  it('builds the JSON patch with test, replace and the previous-slot annotation', () => {
    const plan = planSwitch(detect(), 'green');
    expect(plan).toEqual({
      allowed: true,
      from: 'blue',
      to: 'green',
      patch: [
        {
          op: 'test',
          path: '/spec/selector/app.kubernetes.io~1slot',
          value: 'blue',
        },
        {
          op: 'replace',
          path: '/spec/selector/app.kubernetes.io~1slot',
          value: 'green',
        },
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { 'rollouts.backstage.io/previous-slot': 'blue' },
        },
      ],
    });
  });

  it('adds or replaces the annotation when the Service has annotations', () => {
    const withOther = planSwitch(
      detect({ service: demoService('blue', { team: 'payments' }) }),
      'green',
    );
    expect(withOther.allowed && withOther.patch[2]).toEqual({
      op: 'add',
      path: '/metadata/annotations/rollouts.backstage.io~1previous-slot',
      value: 'blue',
    });
    const withPrevious = planSwitch(
      detect({
        service: demoService('blue', { [PREVIOUS_SLOT_ANNOTATION]: 'green' }),
      }),
      'green',
    );
    expect(withPrevious.allowed && withPrevious.patch[2]).toEqual({
      op: 'replace',
      path: '/metadata/annotations/rollouts.backstage.io~1previous-slot',
      value: 'blue',
    });
  });

  it('tests against the slot the caller expects', () => {
    const plan = planSwitch(detect(), 'green', {
      expectedCurrentSlot: 'purple',
    });
    expect(plan.allowed && plan.patch[0]).toEqual({
      op: 'test',
      path: '/spec/selector/app.kubernetes.io~1slot',
      value: 'purple',
    });
  });

  it('refuses unknown, live and unready targets with a reason', () => {
    expect(planSwitch(detect(), 'red')).toEqual({
      allowed: false,
      code: 'unknown-slot',
      reason:
        "Service fastapi-demo/demo-api has no slot 'red'; known slots: blue, green.",
    });
    expect(planSwitch(detect(), 'blue')).toMatchObject({
      allowed: false,
      code: 'already-live',
    });
    const unready = detect({
      green: demoDeployment('green', {
        status: {
          observedGeneration: 3,
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: 1,
        },
      }),
    });
    expect(planSwitch(unready, 'green')).toEqual({
      allowed: false,
      code: 'not-ready',
      reason:
        'Slot \'green\' (Deployment demo-api-green) is not ready for traffic: Waiting for deployment "demo-api-green" rollout to finish: 1 of 2 updated replicas are available....',
    });
  });
});

describe('planRollback', () => {
  it('switches back to the recorded previous slot', () => {
    const bg = detect({
      service: demoService('green', { [PREVIOUS_SLOT_ANNOTATION]: 'blue' }),
      endpoints: greenPods.map(p => ({ name: p.metadata!.name!, ready: true })),
    });
    const plan = planRollback(bg);
    expect(plan).toMatchObject({ allowed: true, from: 'green', to: 'blue' });
    expect(plan.allowed && plan.patch[2]).toEqual({
      op: 'replace',
      path: '/metadata/annotations/rollouts.backstage.io~1previous-slot',
      value: 'green',
    });
  });

  it('refuses without a recorded previous slot', () => {
    expect(planRollback(detect())).toMatchObject({
      allowed: false,
      code: 'no-previous-slot',
    });
  });
});
