import { Entity } from '@backstage/catalog-model';
import {
  entitySelection,
  selects,
  selectsKustomization,
} from './entitySelection';

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

describe('selectsKustomization', () => {
  const shop = {
    labelSelector: { matchLabels: { 'backstage.io/kubernetes-id': 'shop' } },
    // The entity's workloads are restricted to their namespace; Flux's
    // objects live in Flux's.
    namespace: 'shop-dev',
  };
  const kustomization = (metadata: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }) => ({
    metadata: { name: 'shop-dev', namespace: 'flux-system', ...metadata },
  });

  it('takes a Kustomization that names the entity or carries its labels, in any namespace', () => {
    expect(
      selectsKustomization(
        shop,
        'component:default/shop',
        kustomization({
          annotations: {
            'rollouts.backstage.io/entity-ref': 'Component:default/Shop',
          },
        }),
      ),
    ).toBe(true);
    expect(
      selectsKustomization(
        shop,
        'component:default/shop',
        kustomization({ labels: { 'backstage.io/kubernetes-id': 'shop' } }),
      ),
    ).toBe(true);
    // What `selects` refuses for the namespace.
    expect(
      selects(
        shop,
        kustomization({ labels: { 'backstage.io/kubernetes-id': 'shop' } }),
      ),
    ).toBe(false);
  });

  it("refuses another entity's Kustomization and an unmarked one", () => {
    expect(
      selectsKustomization(
        shop,
        'component:default/shop',
        kustomization({
          labels: { 'backstage.io/kubernetes-id': 'other' },
          annotations: {
            'rollouts.backstage.io/entity-ref': 'component:default/other',
          },
        }),
      ),
    ).toBe(false);
    expect(
      selectsKustomization(shop, 'component:default/shop', kustomization({})),
    ).toBe(false);
  });
});
