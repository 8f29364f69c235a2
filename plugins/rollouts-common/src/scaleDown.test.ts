import {
  isScaleDownDue,
  MAX_SCALE_DOWN_DELAY_SECONDS,
  planCancelScaleDown,
  planRestoreReplicas,
  planScaleDown,
  planScheduleScaleDown,
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
  scaleDownState,
} from './scaleDown';
import { demoDeployment } from './testFixtures';

const SLOT = 'app.kubernetes.io/slot';
const NOW = Date.parse('2026-11-28T10:00:00Z');
const AT = '2026-11-28T10:10:00Z';

function blue(
  annotations: Record<string, string> = {},
  replicas = 2,
): ReturnType<typeof demoDeployment> {
  const d = demoDeployment('blue', { replicas });
  Object.assign(d.metadata!.annotations!, annotations);
  return d;
}
const scheduled = (replicas = 2) =>
  blue(
    { [SCALE_DOWN_AT_ANNOTATION]: AT, [RESTORE_REPLICAS_ANNOTATION]: '2' },
    replicas,
  );

describe('scaleDownState', () => {
  it('reads a schedule, a done scale-down, or nothing', () => {
    expect(scaleDownState(blue())).toBeUndefined();
    expect(scaleDownState(scheduled())).toEqual({
      state: 'scheduled',
      at: AT,
      replicas: 2,
    });
    expect(
      scaleDownState(blue({ [RESTORE_REPLICAS_ANNOTATION]: '3' }, 0)),
    ).toEqual({ state: 'scaled-down', replicas: 3 });
  });

  it('is nothing when a restore count is left on a slot that runs again', () => {
    expect(
      scaleDownState(blue({ [RESTORE_REPLICAS_ANNOTATION]: '3' }, 2)),
    ).toBeUndefined();
  });

  it('reports annotations it cannot read', () => {
    expect(
      scaleDownState(
        blue({
          [SCALE_DOWN_AT_ANNOTATION]: 'tomorrow',
          [RESTORE_REPLICAS_ANNOTATION]: '2',
        }),
      ),
    ).toEqual({
      state: 'invalid',
      reason: `${SCALE_DOWN_AT_ANNOTATION} is 'tomorrow', not an RFC 3339 time`,
    });
    // A date JavaScript reads, but not in the RFC 3339 form Kubernetes writes.
    expect(
      scaleDownState(
        blue({
          [SCALE_DOWN_AT_ANNOTATION]: 'Nov 28 2026 10:10 UTC',
          [RESTORE_REPLICAS_ANNOTATION]: '2',
        }),
      ),
    ).toMatchObject({ state: 'invalid' });
    expect(scaleDownState(blue({ [SCALE_DOWN_AT_ANNOTATION]: AT }))).toEqual({
      state: 'invalid',
      reason: `${RESTORE_REPLICAS_ANNOTATION} is '', not a replica count`,
    });
    expect(
      scaleDownState(
        blue({
          [SCALE_DOWN_AT_ANNOTATION]: AT,
          [RESTORE_REPLICAS_ANNOTATION]: '12',
        }),
      ),
    ).toMatchObject({ state: 'scheduled', replicas: 12 });
    for (const restore of ['0', '01', '-1', 'two', '1.5']) {
      expect(
        scaleDownState(
          blue({
            [SCALE_DOWN_AT_ANNOTATION]: AT,
            [RESTORE_REPLICAS_ANNOTATION]: restore,
          }),
        ),
      ).toMatchObject({ state: 'invalid' });
    }
  });
});

describe('isScaleDownDue', () => {
  it('is due at and after the time, not before, and never without a schedule', () => {
    const state = scaleDownState(scheduled());
    expect(isScaleDownDue(state, Date.parse(AT) - 1)).toBe(false);
    expect(isScaleDownDue(state, Date.parse(AT))).toBe(true);
    expect(isScaleDownDue(undefined, NOW)).toBe(false);
    expect(
      isScaleDownDue({ state: 'scaled-down', replicas: 2 }, Date.parse(AT)),
    ).toBe(false);
  });
});

describe('planScheduleScaleDown', () => {
  it('annotates when and how many, testing the replica count it records', () => {
    expect(
      planScheduleScaleDown(blue(), { delaySeconds: 600, now: NOW }),
    ).toEqual({
      allowed: true,
      at: AT,
      replicas: 2,
      patch: [
        { op: 'test', path: '/spec/replicas', value: 2 },
        {
          op: 'add',
          path: '/metadata/annotations/rollouts.backstage.io~1scale-down-at',
          value: AT,
        },
        {
          op: 'add',
          path: '/metadata/annotations/rollouts.backstage.io~1restore-replicas',
          value: '2',
        },
      ],
    });
  });

  it('adds the annotations object when there is none', () => {
    const d = blue();
    delete d.metadata!.annotations;
    const plan = planScheduleScaleDown(d, { delaySeconds: 0, now: NOW });
    expect(plan.allowed && plan.patch[1]).toEqual({
      op: 'add',
      path: '/metadata/annotations',
      value: {
        [SCALE_DOWN_AT_ANNOTATION]: '2026-11-28T10:00:00Z',
        [RESTORE_REPLICAS_ANNOTATION]: '2',
      },
    });
  });

  it.each([-1, 1.5, MAX_SCALE_DOWN_DELAY_SECONDS + 1, Number.NaN])(
    'refuses a delay of %s seconds',
    delaySeconds => {
      expect(planScheduleScaleDown(blue(), { delaySeconds, now: NOW })).toEqual(
        {
          allowed: false,
          reason: `scaleDownDelaySeconds must be a whole number of seconds from 0 to ${MAX_SCALE_DOWN_DELAY_SECONDS}, got ${delaySeconds}`,
        },
      );
    },
  );

  it('accepts the longest delay, seven days, and a single replica', () => {
    expect(MAX_SCALE_DOWN_DELAY_SECONDS).toBe(604800);
    expect(
      planScheduleScaleDown(blue({}, 1), {
        delaySeconds: MAX_SCALE_DOWN_DELAY_SECONDS,
        now: NOW,
      }),
    ).toMatchObject({ allowed: true });
  });

  it('refuses a slot that already runs no replicas', () => {
    expect(
      planScheduleScaleDown(blue({}, 0), { delaySeconds: 60, now: NOW }),
    ).toEqual({
      allowed: false,
      reason: 'Deployment demo-api-blue is already scaled to 0 replicas',
    });
  });
});

describe('planScaleDown', () => {
  it('pins the schedule, the slot and the count, scales to 0 and records the count', () => {
    expect(planScaleDown(scheduled(3), SLOT)).toEqual({
      allowed: true,
      patch: [
        {
          op: 'test',
          path: '/metadata/annotations/rollouts.backstage.io~1scale-down-at',
          value: AT,
        },
        {
          op: 'test',
          path: '/spec/template/metadata/labels/app.kubernetes.io~1slot',
          value: 'blue',
        },
        { op: 'test', path: '/spec/replicas', value: 3 },
        { op: 'replace', path: '/spec/replicas', value: 0 },
        {
          op: 'remove',
          path: '/metadata/annotations/rollouts.backstage.io~1scale-down-at',
        },
        {
          op: 'add',
          path: '/metadata/annotations/rollouts.backstage.io~1restore-replicas',
          value: '3',
        },
      ],
    });
  });

  it('only removes the schedule of a slot someone scaled to 0 already', () => {
    const plan = planScaleDown(scheduled(0), SLOT);
    expect(plan.allowed && plan.patch.map(op => op.op)).toEqual([
      'test',
      'test',
      'test',
      'remove',
    ]);
  });

  it('refuses without a valid schedule or a slot label', () => {
    expect(planScaleDown(blue(), SLOT)).toEqual({
      allowed: false,
      reason: 'Deployment demo-api-blue has no valid scheduled scale-down',
    });
    expect(
      planScaleDown(blue({ [SCALE_DOWN_AT_ANNOTATION]: 'soon' }), SLOT),
    ).toEqual({
      allowed: false,
      reason: `Deployment demo-api-blue has no valid scheduled scale-down (${SCALE_DOWN_AT_ANNOTATION} is 'soon', not an RFC 3339 time)`,
    });
    expect(planScaleDown(scheduled(), 'color')).toEqual({
      allowed: false,
      reason: "Deployment demo-api-blue has no 'color' label: it is not a slot",
    });
  });
});

describe('planCancelScaleDown', () => {
  it('removes the schedule it tests', () => {
    expect(planCancelScaleDown(scheduled())).toEqual({
      allowed: true,
      patch: [
        {
          op: 'test',
          path: '/metadata/annotations/rollouts.backstage.io~1scale-down-at',
          value: AT,
        },
        {
          op: 'remove',
          path: '/metadata/annotations/rollouts.backstage.io~1scale-down-at',
        },
        {
          op: 'remove',
          path: '/metadata/annotations/rollouts.backstage.io~1restore-replicas',
        },
      ],
    });
  });

  it('refuses without a schedule', () => {
    expect(planCancelScaleDown(blue())).toEqual({
      allowed: false,
      reason: 'Deployment demo-api-blue has no scheduled scale-down',
    });
  });

  it('removes only the schedule when no count was recorded', () => {
    const plan = planCancelScaleDown(blue({ [SCALE_DOWN_AT_ANNOTATION]: AT }));
    expect(plan.allowed && plan.patch.map(op => op.op)).toEqual([
      'test',
      'remove',
    ]);
  });
});

describe('planRestoreReplicas', () => {
  it('scales a scaled-down slot back to the recorded count, testing 0 and the record', () => {
    expect(
      planRestoreReplicas(blue({ [RESTORE_REPLICAS_ANNOTATION]: '3' }, 0)),
    ).toEqual({
      allowed: true,
      replicas: 3,
      patch: [
        { op: 'test', path: '/spec/replicas', value: 0 },
        {
          op: 'test',
          path: '/metadata/annotations/rollouts.backstage.io~1restore-replicas',
          value: '3',
        },
        { op: 'replace', path: '/spec/replicas', value: 3 },
        {
          op: 'remove',
          path: '/metadata/annotations/rollouts.backstage.io~1restore-replicas',
        },
      ],
    });
  });

  it('refuses a slot scaled to 0 by someone else, and one that runs', () => {
    expect(planRestoreReplicas(blue({}, 0))).toEqual({
      allowed: false,
      reason: `Deployment demo-api-blue was not scaled down by a scheduled scale-down (it has 0 replicas and no ${RESTORE_REPLICAS_ANNOTATION} annotation)`,
    });
    expect(planRestoreReplicas(scheduled(3))).toEqual({
      allowed: false,
      reason:
        'Deployment demo-api-blue was not scaled down by a scheduled scale-down (it has 3 replicas)',
    });
  });
});
