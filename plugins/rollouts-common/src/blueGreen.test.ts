import {
  detectBlueGreen,
  endpointsBySlot,
  isPreviewService,
  planPreviewRepoint,
  planRollback,
  planSwitch,
  PREVIEW_OF_ANNOTATION,
  PREVIOUS_SLOT_ANNOTATION,
  slotVersion,
  trafficConverged,
  VERSION_LABEL,
} from './blueGreen';
import { escapeJsonPointerToken, jsonPointer } from './jsonPatch';
import {
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
} from './scaleDown';
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
      idleSlot: 'green',
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

  it('lets no paused, unavailable or half-known slot take traffic', () => {
    const paused = demoDeployment('green');
    paused.spec!.paused = true;
    expect(detect({ green: paused }).slots[1]).toMatchObject({
      readyForTraffic: false,
      notReadyReason: 'the Deployment is paused',
    });
    // Right after it was created: no replicas field yet (the API's default is 1)
    // and no replica reported.
    const fresh = demoDeployment('green', {
      status: { observedGeneration: 3 },
    });
    delete fresh.spec!.replicas;
    expect(detect({ green: fresh }).slots[1]).toMatchObject({
      readyForTraffic: false,
      notReadyReason: 'only 0 of 1 replicas are available',
    });
    const single = detect({ green: demoDeployment('green', { replicas: 1 }) });
    expect(single.slots[1]).toMatchObject({ readyForTraffic: true });
    expect(single.slots[1]).not.toHaveProperty('notReadyReason');
  });

  it('pairs only Deployments of the namespace that match the whole selector and carry a slot', () => {
    const otherNamespace = demoDeployment('purple');
    otherNamespace.metadata!.namespace = 'elsewhere';
    const otherApp = demoDeployment('red');
    otherApp.spec!.template!.metadata!.labels!['app.kubernetes.io/name'] =
      'demo-web';
    const noSlot = demoDeployment('canary');
    delete noSlot.spec!.template!.metadata!.labels!['app.kubernetes.io/slot'];
    const noTemplate = demoDeployment('orange');
    delete noTemplate.spec!.template;
    const service = demoService('blue');
    service.spec!.selector!['app.kubernetes.io/part-of'] = 'fastapi-demo';
    otherApp.spec!.template!.metadata!.labels!['app.kubernetes.io/part-of'] =
      'fastapi-demo';
    const [bg] = detectBlueGreen({
      services: [service, { metadata: { name: 'headless' } }],
      // Listed out of order: slots come sorted.
      deployments: [
        demoDeployment('green'),
        otherNamespace,
        otherApp,
        noSlot,
        noTemplate,
        demoDeployment('blue'),
      ],
    });
    expect(bg.slots.map(s => s.deployment)).toEqual([
      'demo-api-blue',
      'demo-api-green',
    ]);
    expect(bg.problems).toEqual([]);
    expect(bg.hasAnnotations).toBe(false);
    // JSON from the API server may hold null for an empty map.
    service.metadata!.annotations = JSON.parse('null');
    expect(
      detectBlueGreen({ services: [service], deployments: [] })[0]
        .hasAnnotations,
    ).toBe(false);
    expect(bg.trafficSlots).toEqual([]);
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
    expect(bg.problems).toEqual([
      "Slot 'green' is claimed by 2 Deployments (demo-api-green, demo-api-green-copy); a slot must map to exactly one Deployment.",
    ]);
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
    expect(trafficConverged(bg, 'blue')).toBe(false);
  });

  it('has traffic converged only when every ready endpoint is a known pod of the slot', () => {
    const green = greenPods.map(p => ({
      name: p.metadata!.name!,
      ready: true,
    }));
    const converged = detect({
      service: demoService('green'),
      endpoints: green,
    });
    expect(trafficConverged(converged, 'green')).toBe(true);
    const withUnknown = detect({
      service: demoService('green'),
      endpoints: [...green, { name: 'unknown-pod', ready: true }],
    });
    expect(trafficConverged(withUnknown, 'green')).toBe(false);
    // Out of order: the slots with traffic come sorted.
    const moving = detect({
      endpoints: [green[0], { name: bluePods[0].metadata!.name!, ready: true }],
    });
    expect(moving.trafficSlots).toEqual(['blue', 'green']);
    expect(trafficConverged(moving, 'blue')).toBe(false);
  });
});

describe('endpointsBySlot', () => {
  const slotLabel = 'app.kubernetes.io/slot';
  const endpoint = (pod: string, ready?: boolean) => ({
    addresses: [`10.244.0.${pod.length}`],
    ...(ready !== undefined && { conditions: { ready } }),
    targetRef: { kind: 'Pod', name: pod },
  });
  const slice = (
    endpoints: ReturnType<typeof endpoint>[] | undefined,
    metadata: { namespace?: string; service?: string } = {},
  ) => ({
    addressType: 'IPv4',
    metadata: {
      namespace: metadata.namespace ?? 'fastapi-demo',
      labels: {
        'kubernetes.io/service-name': metadata.service ?? 'demo-api',
      },
    },
    ...(endpoints && { endpoints }),
  });
  const blue = bluePods[0].metadata!.name!;
  const green = greenPods[0].metadata!.name!;

  it('counts each pod once, from the Service and namespace asked for', () => {
    const samePodElsewhere = demoPod('green', 'aaaaa');
    samePodElsewhere.metadata!.namespace = 'elsewhere';
    samePodElsewhere.metadata!.name = blue;
    const unlabelled = demoPod('green', 'eeeee');
    delete unlabelled.metadata!.labels;
    expect(
      endpointsBySlot(
        'fastapi-demo',
        'demo-api',
        [
          // A dual-stack Service has one slice per address family.
          slice([endpoint(blue), endpoint(green, true)]),
          slice([endpoint(blue), endpoint(green)]),
          slice([endpoint(unlabelled.metadata!.name!)]),
          slice([endpoint('other-ns')], { namespace: 'elsewhere' }),
          slice([endpoint('other-svc')], { service: 'demo-api-preview' }),
          { addressType: 'IPv4' },
          { addressType: 'IPv4', metadata: { namespace: 'fastapi-demo' } },
          slice(undefined),
        ],
        [bluePods[0], samePodElsewhere, greenPods[0], unlabelled],
        slotLabel,
      ),
    ).toEqual({ bySlot: { blue: 1, green: 1 }, unknown: 1, notReady: 0 });
  });

  it('counts endpoints without a pod by address, and not-ready ones apart', () => {
    // A node named like a pod is still no pod.
    const node = {
      addresses: ['10.0.0.7'],
      targetRef: { kind: 'Node', name: blue },
    };
    const external = { addresses: ['192.0.2.10'] };
    expect(
      endpointsBySlot(
        'fastapi-demo',
        'demo-api',
        [
          slice([endpoint(blue, false)]),
          { ...slice([]), endpoints: [node, node, external] },
        ],
        bluePods,
        slotLabel,
      ),
    ).toEqual({ bySlot: {}, unknown: 2, notReady: 1 });
  });
});

describe('isPreviewService', () => {
  it('is true only with the preview-of annotation', () => {
    expect(isPreviewService({})).toBe(false);
    expect(isPreviewService(demoService('blue'))).toBe(false);
    expect(
      isPreviewService(demoService('blue', { [PREVIEW_OF_ANNOTATION]: 'x' })),
    ).toBe(true);
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
    expect(planSwitch(detect(), 'blue')).toEqual({
      allowed: false,
      code: 'already-live',
      reason: "Slot 'blue' is already live.",
    });
    const [empty] = detectBlueGreen({
      services: [demoService('blue')],
      deployments: [],
    });
    expect(planSwitch(empty, 'green')).toMatchObject({
      reason:
        "Service fastapi-demo/demo-api has no slot 'green'; known slots: none.",
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
    expect(planRollback(detect())).toEqual({
      allowed: false,
      code: 'no-previous-slot',
      reason:
        "Service fastapi-demo/demo-api has no 'rollouts.backstage.io/previous-slot' annotation: it was not switched by this plugin, so there is nothing to roll back to.",
    });
  });
});

function previewService(
  slot: string | undefined,
  options: {
    of?: string;
    name?: string;
    selector?: Record<string, string>;
  } = {},
) {
  const svc = demoService(slot ?? 'unused', {
    [PREVIEW_OF_ANNOTATION]: options.of ?? 'demo-api',
  });
  svc.metadata!.name = options.name ?? 'demo-api-preview';
  svc.spec!.selector = options.selector ?? {
    'app.kubernetes.io/name': 'demo-api',
    ...(slot !== undefined && { 'app.kubernetes.io/slot': slot }),
  };
  return svc;
}

function detectWithPreview(
  services: ReturnType<typeof demoService>[],
  previewEndpoints: { name: string; ready: boolean }[] = greenPods.map(p => ({
    name: p.metadata!.name!,
    ready: true,
  })),
) {
  return detectBlueGreen({
    services: [demoService('blue'), ...services],
    deployments: [demoDeployment('blue'), demoDeployment('green')],
    pods,
    endpointSlices: [
      demoEndpointSlice(
        'demo-api',
        bluePods.map(p => ({ name: p.metadata!.name!, ready: true })),
      ),
      demoEndpointSlice('demo-api-preview', previewEndpoints),
    ],
  });
}

describe('detectBlueGreen with a preview Service', () => {
  it('recognises the preview of the live Service as part of that pair, not as a second pair', () => {
    const pairs = detectWithPreview([previewService('green')]);
    expect(pairs.map(p => p.service)).toEqual(['demo-api']);
    const [bg] = pairs;
    expect(bg.liveSlot).toBe('blue');
    expect(bg.idleSlot).toBe('green');
    expect(bg.problems).toEqual([]);
    expect(bg.preview).toEqual({
      service: 'demo-api-preview',
      selectorSlot: 'green',
      endpoints: { green: 2 },
      unknownEndpoints: 0,
      notReadyEndpoints: 0,
      problems: [],
    });
  });

  it('reports a Service without the annotation as a pair of its own', () => {
    const unannotated = previewService('green');
    delete unannotated.metadata!.annotations;
    const pairs = detectWithPreview([unannotated]);
    expect(pairs.map(p => p.service)).toEqual(['demo-api', 'demo-api-preview']);
    expect(pairs[0].preview).toBeUndefined();
  });

  it('does not attach the preview of another Service, nor report it as a pair', () => {
    const pairs = detectWithPreview([previewService('green', { of: 'other' })]);
    expect(pairs.map(p => p.service)).toEqual(['demo-api']);
    expect(pairs[0].preview).toBeUndefined();
  });

  it('counts endpoints that are not ready and of other slots', () => {
    const [bg] = detectWithPreview(
      [previewService('green')],
      [
        { name: greenPods[0].metadata!.name!, ready: true },
        { name: greenPods[1].metadata!.name!, ready: false },
        { name: bluePods[0].metadata!.name!, ready: true },
      ],
    );
    expect(bg.preview).toMatchObject({
      endpoints: { green: 1, blue: 1 },
      notReadyEndpoints: 1,
    });
  });

  it('takes only a preview from the same namespace', () => {
    const elsewhere = previewService('green');
    elsewhere.metadata!.namespace = 'elsewhere';
    const [bg] = detectWithPreview([elsewhere]);
    expect(bg.preview).toBeUndefined();
    expect(bg.problems).toEqual([]);
  });

  it('compares selectors whatever their key order, and needs no traffic data', () => {
    const preview = previewService('green', {
      selector: {
        'app.kubernetes.io/slot': 'green',
        'app.kubernetes.io/part-of': 'fastapi-demo',
        'app.kubernetes.io/name': 'demo-api',
      },
    });
    const live = demoService('blue');
    live.spec!.selector!['app.kubernetes.io/part-of'] = 'fastapi-demo';
    const [bg] = detectBlueGreen({
      services: [live, preview],
      deployments: [demoDeployment('blue'), demoDeployment('green')],
    });
    expect(bg.preview).toStrictEqual({
      service: 'demo-api-preview',
      selectorSlot: 'green',
      endpoints: {},
      unknownEndpoints: 0,
      notReadyEndpoints: 0,
      problems: [],
    });
  });

  it('uses no preview when several Services claim to be it', () => {
    const [bg] = detectWithPreview([
      previewService('green', { name: 'demo-api-preview-2' }),
      previewService('green'),
    ]);
    expect(bg.preview).toBeUndefined();
    expect(bg.problems).toEqual([
      'Several Services are annotated as its preview (demo-api-preview, demo-api-preview-2; rollouts.backstage.io/preview-of); a pair has one preview Service, so none is used.',
    ]);
  });

  it('explains a preview that selects no slot or other pods', () => {
    const [noSlot] = detectWithPreview([previewService(undefined)]);
    expect(noSlot.preview!.problems).toEqual([
      "The preview Service demo-api-preview has no 'app.kubernetes.io/slot' label in its selector: it cannot preview a slot.",
    ]);
    expect(noSlot.preview).not.toHaveProperty('selectorSlot');
    const slotOnly = previewService('green', {
      selector: { 'app.kubernetes.io/slot': 'green' },
    });
    const [tooWide] = detectWithPreview([slotOnly]);
    expect(tooWide.preview!.problems).toEqual([
      "The preview Service demo-api-preview selects other pods than demo-api (besides 'app.kubernetes.io/slot'): [nothing else] vs [app.kubernetes.io/name=demo-api].",
    ]);
    const twoKeys = previewService('green', {
      selector: {
        'app.kubernetes.io/name': 'demo-web',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/slot': 'green',
      },
    });
    const [twoKeyPreview] = detectWithPreview([twoKeys]);
    expect(twoKeyPreview.preview!.problems).toEqual([
      "The preview Service demo-api-preview selects other pods than demo-api (besides 'app.kubernetes.io/slot'): [app.kubernetes.io/name=demo-web,app.kubernetes.io/part-of=shop] vs [app.kubernetes.io/name=demo-api].",
    ]);
    const noSpec = previewService('green');
    delete noSpec.spec;
    const [withoutSpec] = detectWithPreview([noSpec]);
    expect(withoutSpec.preview!.problems).toHaveLength(2);
    const [otherPods] = detectWithPreview([
      previewService('green', {
        selector: {
          'app.kubernetes.io/name': 'demo-web',
          'app.kubernetes.io/slot': 'green',
        },
      }),
    ]);
    expect(otherPods.preview!.problems).toEqual([
      "The preview Service demo-api-preview selects other pods than demo-api (besides 'app.kubernetes.io/slot'): [app.kubernetes.io/name=demo-web] vs [app.kubernetes.io/name=demo-api].",
    ]);
  });

  it('has no idle slot when the live one has no Deployment', () => {
    const [bg] = detectBlueGreen({
      services: [demoService('purple')],
      deployments: [demoDeployment('blue'), demoDeployment('green')],
    });
    expect(bg.idleSlot).toBeUndefined();
  });
});

describe('slotVersion', () => {
  const withImage = (image: string, version?: string) => {
    const d = demoDeployment('green', { image });
    if (version) {
      d.spec!.template!.metadata!.labels![VERSION_LABEL] = version;
    }
    return d;
  };

  it('reads the version label bg-switch.sh reads', () => {
    expect(VERSION_LABEL).toBe('app.kubernetes.io/version');
  });

  it('prefers the version label, else the image tag', () => {
    expect(slotVersion(withImage('ghcr.io/a/b:2.0.0', '2.0.1'))).toBe('2.0.1');
    expect(slotVersion(withImage('ghcr.io/a/b:2.0.0'))).toBe('2.0.0');
    expect(detect().slots.map(s => s.version)).toEqual(['1.0.0', '2.0.0']);
  });

  it('ignores a digest and a registry port, and has none without a tag', () => {
    expect(slotVersion(withImage('localhost:5000/a/b:1.2.3@sha256:abc'))).toBe(
      '1.2.3',
    );
    expect(slotVersion(withImage('localhost:5000/a/b'))).toBeUndefined();
    expect(slotVersion(withImage('b@sha256:abc'))).toBeUndefined();
    expect(slotVersion(withImage('ghcr.io/a/b:'))).toBeUndefined();
  });

  it('has none without a container or an image', () => {
    const noImage = demoDeployment('green');
    delete noImage.spec!.template!.spec!.containers[0].image;
    expect(slotVersion(noImage)).toBeUndefined();
    expect(
      slotVersion({ spec: { template: { spec: { containers: [] } } } }),
    ).toBeUndefined();
    expect(slotVersion({})).toBeUndefined();
  });
});

describe('planPreviewRepoint', () => {
  it('points the preview at the slot just left, testing the one it selected', () => {
    const [bg] = detectWithPreview([previewService('green')]);
    expect(planPreviewRepoint(bg, 'green', 'blue')).toEqual({
      allowed: true,
      service: 'demo-api-preview',
      patch: [
        {
          op: 'test',
          path: '/spec/selector/app.kubernetes.io~1slot',
          value: 'green',
        },
        {
          op: 'replace',
          path: '/spec/selector/app.kubernetes.io~1slot',
          value: 'blue',
        },
      ],
    });
  });

  it('refuses without a preview, or when the slot left has no Deployment', () => {
    expect(planPreviewRepoint(detect(), 'green', 'blue')).toEqual({
      allowed: false,
      reason: 'Service demo-api has no preview Service',
    });
    const [bg] = detectWithPreview([previewService('green')]);
    expect(planPreviewRepoint(bg, 'green', 'purple')).toEqual({
      allowed: false,
      reason:
        "the slot switched away from ('purple') has no Deployment, so there is nothing to preview",
    });
  });
});

describe('detectBlueGreen and scale-down', () => {
  it("shows a slot's scheduled scale-down", () => {
    const blue = demoDeployment('blue');
    blue.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION] =
      '2026-11-28T10:10:00Z';
    blue.metadata!.annotations![RESTORE_REPLICAS_ANNOTATION] = '2';
    const [bg] = detectBlueGreen({
      services: [demoService('green')],
      deployments: [blue, demoDeployment('green')],
    });
    expect(bg.slots.map(s => [s.slot, s.scaleDown])).toEqual([
      ['blue', { state: 'scheduled', at: '2026-11-28T10:10:00Z', replicas: 2 }],
      ['green', undefined],
    ]);
  });
});
