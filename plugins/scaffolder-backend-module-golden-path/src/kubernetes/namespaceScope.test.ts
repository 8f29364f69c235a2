import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import {
  checkTargetNamespace,
  namespaceOwnershipRefusal,
  ownedNamespaceObject,
  scopeToNamespace,
} from './namespaceScope';

const clusterScoped = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
]);
const scopeOf = async (o: KubeObject) => {
  if (o.kind === 'Widget') throw new Error('the cluster serves no kind Widget');
  return { namespaced: !clusterScoped.has(o.kind ?? '') };
};
const obj = (
  kind: string,
  name: string,
  namespace?: string,
  apiVersion = 'v1',
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace && { namespace }) },
});

describe('checkTargetNamespace', () => {
  it.each(['kube-system', 'kube-flux', 'default', 'backstage'])(
    'refuses the protected namespace %s',
    namespace => {
      expect(() =>
        checkTargetNamespace(namespace, ['default', 'backstage']),
      ).toThrow(
        `namespace "${namespace}" is protected: the golden-path Kubernetes actions only write into a namespace of the template's own`,
      );
    },
  );

  it.each(['Shop', 'shop_1', '-shop', 'a'.repeat(64), ''])(
    'refuses the invalid name "%s"',
    namespace => {
      expect(() => checkTargetNamespace(namespace, [])).toThrow(
        'is not a valid namespace name',
      );
    },
  );

  it('accepts a namespace of its own', () => {
    expect(() => checkTargetNamespace('shop-1', ['default'])).not.toThrow();
  });
});

describe('scopeToNamespace', () => {
  it('puts namespaced objects into the namespace and the Namespace first', async () => {
    const scoped = await scopeToNamespace(
      [
        obj('ConfigMap', 'a'),
        obj('Service', 'b', 'shop'),
        obj('Namespace', 'shop'),
      ],
      'shop',
      scopeOf,
    );
    expect(scoped.refusals).toEqual([]);
    expect(scoped.objects.map(o => [o.kind, o.metadata?.namespace])).toEqual([
      ['Namespace', undefined],
      ['ConfigMap', 'shop'],
      ['Service', 'shop'],
    ]);
  });

  it('refuses other namespaces, cluster-scoped objects, unknown kinds and duplicates, all at once', async () => {
    const scoped = await scopeToNamespace(
      [
        obj('Namespace', 'payments'),
        obj('ConfigMap', 'a', 'payments'),
        obj(
          'ClusterRole',
          'admin-ish',
          undefined,
          'rbac.authorization.k8s.io/v1',
        ),
        obj('Widget', 'w'),
        obj('ConfigMap', 'b'),
        obj('ConfigMap', 'b'),
      ],
      'shop',
      scopeOf,
    );
    expect(scoped.refusals).toEqual([
      'Namespace/payments: the template owns namespace shop only; it may not create or change other namespaces',
      'ConfigMap/a is in namespace payments: the template owns namespace shop only',
      'ClusterRole/admin-ish is cluster-scoped: the golden-path actions apply only objects inside namespace shop (and that Namespace itself)',
      'Widget/w: the cluster serves no kind Widget',
      'ConfigMap/b: defined twice',
    ]);
    expect(scoped.objects.map(o => o.metadata?.name)).toEqual(['b']);
  });
});

describe('namespace ownership', () => {
  const annotated = (ref?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'shop',
      resourceVersion: '42',
      ...(ref && { annotations: { 'rollouts.backstage.io/entity-ref': ref } }),
    },
  });

  it("lets the template create a new namespace or write to its entity's own", () => {
    expect(
      namespaceOwnershipRefusal(undefined, 'component:default/shop'),
    ).toBeUndefined();
    // Entity refs compare case-insensitively, as in the catalog.
    expect(
      namespaceOwnershipRefusal(
        annotated('Component:default/Shop'),
        'component:default/shop',
      ),
    ).toBeUndefined();
  });

  it('refuses an existing namespace of another entity, or of nobody', () => {
    expect(
      namespaceOwnershipRefusal(
        annotated('component:default/payments'),
        'component:default/shop',
      ),
    ).toMatch(
      /^namespace shop already exists and is not component:default\/shop's: .*Choose another namespace/,
    );
    expect(
      namespaceOwnershipRefusal(annotated(), 'component:default/shop'),
    ).toMatch(/has no 'rollouts\.backstage\.io\/entity-ref' annotation/);
  });

  it("marks the Namespace as the entity's and pins an existing one to the version checked", () => {
    const fromManifests: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        labels: { team: 'a' },
        annotations: { note: 'x' },
      },
    };
    expect(
      ownedNamespaceObject({
        namespace: 'shop',
        entityRef: 'component:default/shop',
        fromManifests,
        existing: annotated('component:default/shop'),
      }),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        labels: { team: 'a' },
        annotations: {
          note: 'x',
          'rollouts.backstage.io/entity-ref': 'component:default/shop',
        },
        resourceVersion: '42',
      },
    });
    expect(
      ownedNamespaceObject({
        namespace: 'shop',
        entityRef: 'component:default/shop',
        fromManifests: undefined,
        existing: undefined,
      }),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        annotations: {
          'rollouts.backstage.io/entity-ref': 'component:default/shop',
        },
      },
    });
  });
});
