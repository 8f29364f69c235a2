import {
  BlueGreenService,
  detectBlueGreen,
  planSwitch,
  PREVIEW_OF_ANNOTATION,
} from './blueGreen';
import { checkOwnership, ENTITY_REF_ANNOTATION } from './ownership';
import {
  DEFAULT_SMOKE_TEST,
  firstFailedCheck,
  skippedCheck,
  ownershipCheck,
  previewCheck,
  serviceProxyPort,
  SmokeExpectation,
  smokeResponseFailure,
  smokeTestCheck,
  slotCheck,
} from './switchChecks';
import {
  demoDeployment,
  demoEndpointSlice,
  demoPod,
  demoService,
} from './testFixtures';

const ENTITY = 'component:default/fastapi-demo';
const greenPods = [demoPod('green', 'ccccc'), demoPod('green', 'ddddd')];
const bluePods = [demoPod('blue', 'aaaaa')];
const ready = (p: ReturnType<typeof demoPod>, isReady = true) => ({
  name: p.metadata!.name!,
  ready: isReady,
});

function pair(
  previewSlot: string | undefined,
  previewEndpoints = greenPods.map(p => ready(p)),
  greenAvailable = 2,
): BlueGreenService {
  const preview = demoService(previewSlot ?? 'green', {
    [PREVIEW_OF_ANNOTATION]: 'demo-api',
  });
  preview.metadata!.name = 'demo-api-preview';
  const [bg] = detectBlueGreen({
    services: [demoService('blue'), ...(previewSlot ? [preview] : [])],
    deployments: [
      demoDeployment('blue'),
      demoDeployment('green', {
        status: {
          observedGeneration: 3,
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: greenAvailable,
        },
      }),
    ],
    pods: [...greenPods, ...bluePods],
    endpointSlices: [demoEndpointSlice('demo-api-preview', previewEndpoints)],
  });
  return bg;
}

describe('slotCheck', () => {
  it('passes a ready target and says what it checked', () => {
    const bg = pair('green');
    expect(slotCheck(bg, planSwitch(bg, 'green'))).toEqual({
      id: 'slot',
      status: 'passed',
      message:
        'Slot \'green\' (Deployment demo-api-green): deployment "demo-api-green" successfully rolled out (2/2 available).',
    });
  });

  it('fails with the plan refusal', () => {
    const bg = pair('green', undefined, 1);
    const plan = planSwitch(bg, 'green');
    expect(slotCheck(bg, plan)).toEqual({
      id: 'slot',
      status: 'failed',
      message: !plan.allowed && plan.reason,
    });
    expect(plan.allowed).toBe(false);
  });
});

describe('ownershipCheck', () => {
  const owned = demoDeployment('green');
  owned.metadata!.annotations![ENTITY_REF_ANNOTATION] = ENTITY;
  const foreign = demoService('green', {
    [ENTITY_REF_ANNOTATION]: 'component:default/other',
  });

  it('passes when every object names the entity', () => {
    expect(
      ownershipCheck(
        [
          {
            what: 'Deployment demo-api-green',
            refusal: "Traffic would move to slot 'green'",
            check: checkOwnership(owned, ENTITY),
          },
        ],
        ENTITY,
      ),
    ).toEqual({
      id: 'ownership',
      status: 'passed',
      message: `Deployment demo-api-green names ${ENTITY}.`,
    });
  });

  it('fails on the first object of another entity', () => {
    const check = ownershipCheck(
      [
        {
          what: 'Deployment demo-api-green',
          refusal: "Traffic would move to slot 'green'",
          check: checkOwnership(owned, ENTITY),
        },
        {
          what: 'preview Service demo-api-preview',
          refusal: "The preview Service would test slot 'green'",
          check: checkOwnership(foreign, ENTITY),
        },
      ],
      ENTITY,
    );
    expect(check).toMatchObject({ id: 'ownership', status: 'failed' });
    expect(check.message).toMatch(
      /^The preview Service would test slot 'green': Service fastapi-demo\/demo-api belongs to 'component:default\/other'/,
    );
  });
});

describe('ownershipCheck of several objects', () => {
  it('names every object it checked', () => {
    const owned = (kind: 'Deployment' | 'Service') => {
      const object =
        kind === 'Deployment' ? demoDeployment('green') : demoService('blue');
      object.metadata!.annotations = { [ENTITY_REF_ANNOTATION]: ENTITY };
      return checkOwnership(object, ENTITY);
    };
    expect(
      ownershipCheck(
        [
          { what: 'Service demo-api', refusal: 'x', check: owned('Service') },
          {
            what: 'Deployment demo-api-green',
            refusal: 'y',
            check: owned('Deployment'),
          },
        ],
        ENTITY,
      ).message,
    ).toBe(`Service demo-api, Deployment demo-api-green name ${ENTITY}.`);
  });
});

describe('previewCheck', () => {
  it('passes when the preview routes only to ready endpoints of the target', () => {
    expect(previewCheck(pair('green'), 'green')).toEqual({
      id: 'preview',
      status: 'passed',
      message:
        "demo-api-preview routes to 2 ready endpoint(s) of 'green', nothing else.",
    });
  });

  it('is skipped for a pair without a preview Service', () => {
    expect(previewCheck(pair(undefined), 'green')).toEqual({
      id: 'preview',
      status: 'skipped',
      message:
        "Service demo-api has no preview Service (a Service annotated rollouts.backstage.io/preview-of: demo-api), so slot 'green' cannot be tested before it takes traffic.",
    });
  });

  it('ignores a slot listed without endpoints, and names slots of no Deployment', () => {
    const bg = pair('green');
    bg.preview!.endpoints = { green: 2, blue: 0 };
    expect(previewCheck(bg, 'green').status).toBe('passed');
    bg.preview!.endpoints = { green: 2, purple: 1 };
    expect(previewCheck(bg, 'green').message).toMatch(
      /hold: blue=0 green=2 purple=1 unknown=0 not-ready=0\.$/,
    );
  });

  it('fails when the preview selects another slot', () => {
    expect(previewCheck(pair('blue', []), 'green')).toEqual({
      id: 'preview',
      status: 'failed',
      message:
        "The preview Service demo-api-preview selects slot 'blue', not 'green': the target cannot be tested before it takes traffic. Point it at the target first (scripts/bg-switch.sh preview green).",
    });
  });

  it.each([
    [
      'a not-ready endpoint',
      [ready(greenPods[0]), ready(greenPods[1], false)],
      'blue=0 green=1 unknown=0 not-ready=1',
    ],
    [
      'an endpoint of another slot',
      [ready(greenPods[0]), ready(bluePods[0])],
      'blue=1 green=1 unknown=0 not-ready=0',
    ],
    [
      'an unknown endpoint',
      [ready(greenPods[0]), { name: 'stray', ready: true }],
      'blue=0 green=1 unknown=1 not-ready=0',
    ],
    ['no endpoint at all', [], 'blue=0 green=0 unknown=0 not-ready=0'],
  ])('fails with %s', (_, endpoints, summary) => {
    expect(previewCheck(pair('green', endpoints), 'green')).toEqual({
      id: 'preview',
      status: 'failed',
      message: `The preview Service demo-api-preview must route only to ready endpoints of slot 'green'; its EndpointSlices hold: ${summary}.`,
    });
  });

  it('fails with the problem of a preview that cannot preview', () => {
    const bg = pair('green');
    bg.preview!.problems = ['it selects other pods'];
    expect(previewCheck(bg, 'green')).toEqual({
      id: 'preview',
      status: 'failed',
      message: 'it selects other pods',
    });
  });
});

describe('serviceProxyPort', () => {
  it('names the first port by name, else by number', () => {
    const svc = demoService('green');
    expect(serviceProxyPort(svc)).toBe('http');
    svc.spec!.ports = [{ port: 8080 }, { name: 'metrics', port: 9090 }];
    expect(serviceProxyPort(svc)).toBe('8080');
  });

  it('has none for a Service without a spec', () => {
    expect(serviceProxyPort({ metadata: { name: 'x' } })).toBeUndefined();
  });

  it('has none for a Service without ports', () => {
    const svc = demoService('green');
    svc.spec!.ports = [];
    expect(serviceProxyPort(svc)).toBeUndefined();
  });
});

describe('smoke test', () => {
  const expectation: SmokeExpectation = {
    namespace: 'fastapi-demo',
    previewService: 'demo-api-preview',
    slot: 'green',
    version: '2.0.0',
    path: '/health',
    requests: 3,
  };
  const healthy = { status: 200, body: '{"status": "ok", "version": "2.0.0"}' };

  it('passes 200 with the version', () => {
    expect(smokeResponseFailure(healthy, expectation, 1)).toBeUndefined();
    expect(smokeTestCheck([healthy, healthy, healthy], expectation)).toEqual({
      id: 'smoke-test',
      status: 'passed',
      message:
        '3/3 GET /health through demo-api-preview answered 200 with version 2.0.0.',
    });
  });

  it('fails another version, also one that only matches as a pattern', () => {
    for (const version of ['1.0.0', '2x0x0']) {
      expect(
        smokeResponseFailure(
          { status: 200, body: `{"version":"${version}"}` },
          expectation,
          2,
        ),
      ).toBe(
        `smoke test: GET /health through demo-api-preview answered 200 but not version 2.0.0 of slot 'green' (request 2 of 3): {"version":"${version}"}`,
      );
    }
  });

  it('passes any 200 when the slot has no version', () => {
    expect(
      smokeResponseFailure(
        { status: 200, body: 'ok' },
        { ...expectation, version: undefined },
        1,
      ),
    ).toBeUndefined();
    const ok = { status: 200, body: 'ok' };
    expect(
      smokeTestCheck([ok, ok, ok], { ...expectation, version: undefined }),
    ).toEqual({
      id: 'smoke-test',
      status: 'passed',
      message: '3/3 GET /health through demo-api-preview answered 200.',
    });
  });

  it("fails the app's own error with its body, cut short", () => {
    expect(
      smokeResponseFailure(
        { status: 500, body: `boom ${'x'.repeat(400)}` },
        expectation,
        1,
      ),
    ).toBe(
      `smoke test: GET /health through demo-api-preview answered 500 (request 1 of 3): boom ${'x'.repeat(
        295,
      )}`,
    );
  });

  it("names the API server's errors without their text, and the missing RBAC verb", () => {
    const status = (code: number, reason: string) => ({
      status: code,
      body: JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message:
          'error trying to reach service: dial tcp 10.244.1.7:8000: connect: connection refused',
        reason,
        code,
      }),
    });
    const unreachable = smokeResponseFailure(
      status(503, 'ServiceUnavailable'),
      expectation,
      1,
    );
    expect(unreachable).toBe(
      'smoke test: GET /health through demo-api-preview: the API server could not reach a pod of demo-api-preview (503 ServiceUnavailable) (request 1 of 3).',
    );
    expect(unreachable).not.toMatch(/10\.244/);
    expect(smokeResponseFailure(status(403, 'Forbidden'), expectation, 1)).toBe(
      "smoke test: GET /health through demo-api-preview: the write identity may not use the API server's service proxy (RBAC: get on services/proxy in namespace fastapi-demo), so the target cannot be tested.",
    );
    // Only a 403 Forbidden is the missing verb.
    for (const [code, reason] of [
      [403, 'Unauthorized'],
      [503, 'Forbidden'],
    ] as const) {
      expect(smokeResponseFailure(status(code, reason), expectation, 1)).toBe(
        `smoke test: GET /health through demo-api-preview: the API server could not reach a pod of demo-api-preview (${code} ${reason}) (request 1 of 3).`,
      );
    }
    const withoutReason = {
      status: 502,
      body: JSON.stringify({ kind: 'Status', apiVersion: 'v1' }),
    };
    expect(smokeResponseFailure(withoutReason, expectation, 2)).toBe(
      'smoke test: GET /health through demo-api-preview: the API server could not reach a pod of demo-api-preview (502) (request 2 of 3).',
    );
  });

  it("tells the pod's own JSON answers from the API server's", () => {
    const app = (status: number, body: string) =>
      smokeResponseFailure({ status, body }, expectation, 1);
    for (const body of [
      '{"detail": "Not Found"}',
      '{"kind": "Status", "apiVersion": "v2"}',
      '{"kind": "Problem", "apiVersion": "v1"}',
      'null',
    ]) {
      expect(app(404, body)).toBe(
        `smoke test: GET /health through demo-api-preview answered 404 (request 1 of 3): ${body}`,
      );
    }
    const statusLike =
      '{"kind": "Status", "apiVersion": "v1", "version": "2.0.0"}';
    expect(app(200, statusLike)).toBeUndefined();
  });

  it('fails when there was no answer', () => {
    expect(
      smokeResponseFailure(
        { status: 0, body: 'no answer within 5 s' },
        expectation,
        3,
      ),
    ).toBe(
      'smoke test: GET /health through demo-api-preview got no answer (request 3 of 3): no answer within 5 s',
    );
  });

  it('fails at the first bad answer, and when too few were sent', () => {
    const check = smokeTestCheck(
      [healthy, { status: 502, body: 'bad gateway' }],
      expectation,
    );
    expect(check).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/answered 502 \(request 2 of 3\)/),
    });
    expect(check.id).toBe('smoke-test');
    expect(smokeTestCheck([healthy], expectation)).toEqual({
      id: 'smoke-test',
      status: 'failed',
      message: 'smoke test: only 1 of 3 requests were sent.',
    });
  });
});

describe('skippedCheck', () => {
  it('marks a check that did not run, with the reason', () => {
    expect(skippedCheck('smoke-test', 'the preview check failed')).toEqual({
      id: 'smoke-test',
      status: 'skipped',
      message: 'the preview check failed',
    });
  });
});

describe('DEFAULT_SMOKE_TEST', () => {
  it("is scripts/bg-switch.sh's SMOKE_PATH and SMOKE_REQUESTS", () => {
    expect(DEFAULT_SMOKE_TEST).toEqual({ path: '/health', requests: 5 });
  });
});

describe('firstFailedCheck', () => {
  it('finds the first failure and ignores skipped checks', () => {
    expect(
      firstFailedCheck([
        { id: 'slot', status: 'passed', message: 'a' },
        { id: 'preview', status: 'skipped', message: 'b' },
        { id: 'smoke-test', status: 'failed', message: 'c' },
      ]),
    ).toMatchObject({ id: 'smoke-test' });
    expect(
      firstFailedCheck([{ id: 'preview', status: 'skipped', message: 'b' }]),
    ).toBeUndefined();
  });
});
