import { Entity } from '@backstage/catalog-model';
import { entitySelection, selects } from './entitySelection';

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'x', annotations },
});

describe('entitySelection', () => {
  it('maps backstage.io/kubernetes-id to a label selector', () => {
    const s = entitySelection(
      entity({
        'backstage.io/kubernetes-id': 'fastapi-demo',
        'backstage.io/kubernetes-namespace': 'fastapi-demo',
      }),
    )!;
    expect(s).toEqual({
      labelSelector: {
        matchLabels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
      },
      namespace: 'fastapi-demo',
      cluster: undefined,
    });
    const obj = (namespace: string, labels: Record<string, string>) => ({
      metadata: { namespace, labels },
    });
    expect(
      selects(
        s,
        obj('fastapi-demo', { 'backstage.io/kubernetes-id': 'fastapi-demo' }),
      ),
    ).toBe(true);
    expect(
      selects(
        s,
        obj('other', { 'backstage.io/kubernetes-id': 'fastapi-demo' }),
      ),
    ).toBe(false);
    expect(
      selects(s, obj('fastapi-demo', { 'backstage.io/kubernetes-id': 'x' })),
    ).toBe(false);
  });

  it('prefers the label-selector annotation and reads the cluster annotation', () => {
    const s = entitySelection(
      entity({
        'backstage.io/kubernetes-id': 'ignored',
        'backstage.io/kubernetes-label-selector':
          'app.kubernetes.io/name=demo-api,tier in (web)',
        'backstage.io/kubernetes-cluster': 'prod',
      }),
    )!;
    expect(s.cluster).toBe('prod');
    expect(
      selects(s, {
        metadata: {
          labels: { 'app.kubernetes.io/name': 'demo-api', tier: 'web' },
        },
      }),
    ).toBe(true);
    expect(
      selects(s, {
        metadata: { labels: { 'backstage.io/kubernetes-id': 'ignored' } },
      }),
    ).toBe(false);
  });

  it('is undefined without annotations and rejects a broken selector', () => {
    expect(entitySelection(entity({}))).toBeUndefined();
    expect(() =>
      entitySelection(
        entity({ 'backstage.io/kubernetes-label-selector': 'a in b' }),
      ),
    ).toThrow(/is not a valid label selector/);
  });

  it.each([[' '], [','], [', ,']])(
    'refuses the empty selector %j, which would select the whole cluster',
    text => {
      expect(() =>
        entitySelection(
          entity({ 'backstage.io/kubernetes-label-selector': text }),
        ),
      ).toThrow(/is empty, which would select every object in the cluster/);
    },
  );
});
