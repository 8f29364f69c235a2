import { planRestart, RESTARTED_AT_ANNOTATION } from './rolloutRestart';
import { demoDeployment } from './testFixtures';

const NOW = new Date('2026-11-29T10:11:12.345Z');

describe('planRestart', () => {
  it('adds the restartedAt annotation to an existing annotation map, without fractions', () => {
    const d = demoDeployment('blue');
    d.spec!.template!.metadata!.annotations = {
      'prometheus.io/scrape': 'true',
    };
    expect(planRestart(d, NOW)).toEqual({
      allowed: true,
      restartedAt: '2026-11-29T10:11:12Z',
      patch: [
        {
          op: 'add',
          path: '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt',
          value: '2026-11-29T10:11:12Z',
        },
      ],
    });
  });

  it('creates the annotation map when the template has none', () => {
    const d = demoDeployment('blue');
    delete d.spec!.template!.metadata!.annotations;
    const plan = planRestart(d, NOW);
    expect(plan).toMatchObject({
      allowed: true,
      patch: [
        {
          op: 'add',
          path: '/spec/template/metadata/annotations',
          value: { [RESTARTED_AT_ANNOTATION]: '2026-11-29T10:11:12Z' },
        },
      ],
    });
  });

  it('creates the template metadata when there is none', () => {
    const d = demoDeployment('blue');
    delete d.spec!.template!.metadata;
    expect(planRestart(d, NOW)).toMatchObject({
      allowed: true,
      patch: [
        {
          op: 'add',
          path: '/spec/template/metadata',
          value: {
            annotations: { [RESTARTED_AT_ANNOTATION]: '2026-11-29T10:11:12Z' },
          },
        },
      ],
    });
  });

  it('refuses a paused Deployment and names the resume command', () => {
    const d = demoDeployment('blue');
    d.spec!.paused = true;
    expect(planRestart(d, NOW)).toEqual({
      allowed: false,
      code: 'paused',
      reason: expect.stringContaining(
        'kubectl rollout resume deployment/demo-api-blue',
      ),
    });
  });
});
