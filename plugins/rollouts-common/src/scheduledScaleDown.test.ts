import { detectBlueGreen, PREVIEW_OF_ANNOTATION } from './blueGreen';
import { KubeService } from './kube';
import { ENTITY_REF_ANNOTATION } from './ownership';
import {
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
} from './scaleDown';
import {
  decideScheduledScaleDown,
  rollbackScaleUp,
} from './scheduledScaleDown';
import { demoDeployment, demoService } from './testFixtures';

const ENTITY = 'component:default/fastapi-demo';
const SLOT = 'app.kubernetes.io/slot';
const AT = '2026-11-28T10:10:00Z';
const DUE = Date.parse(AT);

function slot(name: string, schedule = false, owner = ENTITY) {
  const d = demoDeployment(name);
  d.metadata!.annotations![ENTITY_REF_ANNOTATION] = owner;
  if (schedule) {
    d.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION] = AT;
    d.metadata!.annotations![RESTORE_REPLICAS_ANNOTATION] = '2';
  }
  return d;
}
const live = (selected: string, owner = ENTITY) =>
  demoService(selected, { [ENTITY_REF_ANNOTATION]: owner });

function decide(
  services: KubeService[],
  options: { now?: number; blue?: ReturnType<typeof slot> } = {},
) {
  return decideScheduledScaleDown({
    deployment: options.blue ?? slot('blue', true),
    services,
    deployments: [slot('blue'), slot('green')],
    slotLabel: SLOT,
    now: options.now ?? DUE,
  });
}

describe('decideScheduledScaleDown', () => {
  it('scales down a due slot that is idle', () => {
    expect(decide([live('green')])).toEqual({
      action: 'scale-down',
      slot: 'blue',
      services: ['demo-api'],
    });
  });

  it('waits until it is due, and ignores a Deployment without a schedule', () => {
    expect(decide([live('green')], { now: DUE - 1000 })).toEqual({
      action: 'none',
    });
    expect(decide([live('green')], { blue: slot('blue') })).toEqual({
      action: 'none',
    });
  });

  it('cancels when the slot is live again', () => {
    expect(decide([live('blue')])).toEqual({
      action: 'cancel',
      slot: 'blue',
      reason: "slot 'blue' is live again in Service fastapi-demo/demo-api",
    });
  });

  it('does not count the preview Service, which selects the idle slot, as live', () => {
    const preview = demoService('blue', {
      [ENTITY_REF_ANNOTATION]: ENTITY,
      [PREVIEW_OF_ANNOTATION]: 'demo-api',
    });
    preview.metadata!.name = 'demo-api-preview';
    expect(decide([live('green'), preview])).toMatchObject({
      action: 'scale-down',
    });
  });

  it("ignores another entity's Service: it neither keeps the slot up nor lets it go down", () => {
    expect(decide([live('blue', 'component:default/other')])).toEqual({
      action: 'skip',
      reason: `Deployment fastapi-demo/demo-api-blue is not a slot of a blue-green Service of ${ENTITY}, so nothing says it is idle`,
    });
    expect(
      decide([live('green'), live('blue', 'component:default/other')]),
    ).toMatchObject({ action: 'scale-down' });
  });

  it('decides for the slot the Deployment runs, not the first slot of the pair', () => {
    expect(decide([live('blue')], { blue: slot('green', true) })).toEqual({
      action: 'scale-down',
      slot: 'green',
      services: ['demo-api'],
    });
  });

  it('names every Service the slot is live in', () => {
    const internal = live('blue');
    internal.metadata!.name = 'demo-api-internal';
    expect(decide([live('blue'), internal])).toEqual({
      action: 'cancel',
      slot: 'blue',
      reason:
        "slot 'blue' is live again in Service fastapi-demo/demo-api, demo-api-internal",
    });
  });

  it("looks past the entity's blue-green Services the Deployment is no slot of", () => {
    const web = live('blue');
    web.metadata!.name = 'demo-web';
    web.spec!.selector!['app.kubernetes.io/name'] = 'demo-web';
    expect(decide([web, live('green')])).toEqual({
      action: 'scale-down',
      slot: 'blue',
      services: ['demo-api'],
    });
  });

  it('skips a Deployment that names no entity or has a schedule it cannot read', () => {
    const anonymous = slot('blue', true);
    delete anonymous.metadata!.annotations![ENTITY_REF_ANNOTATION];
    expect(decide([live('green')], { blue: anonymous })).toEqual({
      action: 'skip',
      reason: `Deployment fastapi-demo/demo-api-blue names no entity in '${ENTITY_REF_ANNOTATION}'`,
    });
    const garbled = slot('blue', true);
    garbled.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION] = 'soon';
    expect(decide([live('green')], { blue: garbled })).toMatchObject({
      action: 'skip',
      reason: expect.stringMatching(/not an RFC 3339 time/),
    });
  });
});

describe('rollbackScaleUp', () => {
  const pairWithBlue = (blue: ReturnType<typeof slot>) =>
    detectBlueGreen({
      services: [live('green')],
      deployments: [blue, slot('green')],
    })[0];

  it('scales a slot back up that its scheduled scale-down took to 0', () => {
    const blue = demoDeployment('blue', {
      replicas: 0,
      status: { observedGeneration: 3 },
    });
    blue.metadata!.annotations![RESTORE_REPLICAS_ANNOTATION] = '3';
    expect(rollbackScaleUp(pairWithBlue(blue), 'blue')).toEqual({
      slot: 'blue',
      deployment: 'demo-api-blue',
      replicas: 3,
    });
  });

  it('scales up the slot asked for', () => {
    const green = demoDeployment('green', {
      replicas: 0,
      status: { observedGeneration: 3 },
    });
    green.metadata!.annotations![RESTORE_REPLICAS_ANNOTATION] = '4';
    const [pair] = detectBlueGreen({
      services: [live('blue')],
      deployments: [slot('blue'), green],
    });
    expect(rollbackScaleUp(pair, 'green')).toEqual({
      slot: 'green',
      deployment: 'demo-api-green',
      replicas: 4,
    });
  });

  it('needs none for a running slot, and none for one scaled to 0 by someone else', () => {
    expect(rollbackScaleUp(pairWithBlue(slot('blue', true)), 'blue')).toBe(
      undefined,
    );
    const manual = demoDeployment('blue', {
      replicas: 0,
      status: { observedGeneration: 3 },
    });
    expect(rollbackScaleUp(pairWithBlue(manual), 'blue')).toBeUndefined();
  });
});
