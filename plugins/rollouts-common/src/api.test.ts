import {
  KUBERNETES_CLUSTER_ANNOTATION,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  kubernetesAuthHeader,
  rolloutsSignalChannel,
} from './api';
import { toIsoTime } from './kube';

describe('the names the rollouts plugin shares with Backstage', () => {
  it('reads the annotations of the Kubernetes plugin', () => {
    expect([
      KUBERNETES_ID_ANNOTATION,
      KUBERNETES_LABEL_SELECTOR_ANNOTATION,
      KUBERNETES_NAMESPACE_ANNOTATION,
      KUBERNETES_CLUSTER_ANNOTATION,
    ]).toEqual([
      'backstage.io/kubernetes-id',
      'backstage.io/kubernetes-label-selector',
      'backstage.io/kubernetes-namespace',
      'backstage.io/kubernetes-cluster',
    ]);
  });

  it('sends user credentials in the header the Kubernetes plugin uses', () => {
    expect(kubernetesAuthHeader({ authProvider: 'google' })).toBe(
      'Backstage-Kubernetes-Authorization-google',
    );
    expect(
      kubernetesAuthHeader({ authProvider: 'oidc', oidcTokenProvider: 'okta' }),
    ).toBe('Backstage-Kubernetes-Authorization-oidc-okta');
  });

  it('announces changes on one signal channel per entity', () => {
    expect(rolloutsSignalChannel('component:default/web')).toBe(
      'rollouts:component:default/web',
    );
  });
});

describe('toIsoTime', () => {
  it('writes dates as ISO strings and passes strings through', () => {
    expect(toIsoTime(new Date(Date.UTC(2026, 10, 20, 9, 12, 44)))).toBe(
      '2026-11-20T09:12:44.000Z',
    );
    expect(toIsoTime('2026-11-20T09:12:44Z')).toBe('2026-11-20T09:12:44Z');
    expect(toIsoTime(undefined)).toBeUndefined();
    // JSON from the API server may hold null where a time is unset.
    expect(toIsoTime(JSON.parse('null'))).toBeUndefined();
  });
});
