import { ConfigReader } from '@backstage/config';
import { kubeConfigFor } from './ClusterRegistry';
import { readClusterConfigs } from './readClusterConfigs';

const config = (clusters: object[], extraMethods: object[] = []) =>
  new ConfigReader({
    kubernetes: {
      clusterLocatorMethods: [...extraMethods, { type: 'config', clusters }],
    },
  });

describe('readClusterConfigs', () => {
  it('reads the Kubernetes plugin cluster block', () => {
    expect(
      readClusterConfigs(
        config(
          [
            {
              name: 'local',
              url: 'https://127.0.0.1:6443',
              authProvider: 'serviceAccount',
              serviceAccountToken: 'abc',
              caData: 'Q0E=',
              skipMetricsLookup: true,
            },
            {
              name: 'prod',
              url: 'https://prod:6443',
              authMetadata: { 'kubernetes.io/auth-provider': 'google' },
              skipTLSVerify: true,
            },
          ],
          [{ type: 'catalog' }],
        ),
      ),
    ).toEqual([
      {
        name: 'local',
        url: 'https://127.0.0.1:6443',
        authProvider: 'serviceAccount',
        serviceAccountToken: 'abc',
        caData: 'Q0E=',
        caFile: undefined,
        skipTLSVerify: false,
      },
      {
        name: 'prod',
        url: 'https://prod:6443',
        authProvider: 'google',
        serviceAccountToken: undefined,
        caData: undefined,
        caFile: undefined,
        skipTLSVerify: true,
      },
    ]);
  });

  it('is empty without config and rejects duplicates and missing auth', () => {
    expect(readClusterConfigs(new ConfigReader({}))).toEqual([]);
    const c = { name: 'a', url: 'https://a', authProvider: 'serviceAccount' };
    expect(() => readClusterConfigs(config([c, c]))).toThrow(
      "Duplicate cluster name 'a'",
    );
    expect(() =>
      readClusterConfigs(config([{ name: 'b', url: 'https://b' }])),
    ).toThrow(/has no auth provider/);
  });
});

describe('kubeConfigFor', () => {
  const base = {
    name: 'local',
    url: 'https://127.0.0.1:6443',
    skipTLSVerify: false,
    caData: 'Q0E=',
  };

  it('uses the service account token and CA', () => {
    const kc = kubeConfigFor({
      ...base,
      authProvider: 'serviceAccount',
      serviceAccountToken: 'abc',
    });
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://127.0.0.1:6443',
      caData: 'Q0E=',
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()?.token).toBe('abc');
  });

  it('refuses per-user auth providers and a missing token with a clear reason', () => {
    expect(() => kubeConfigFor({ ...base, authProvider: 'oidc' })).toThrow(
      /signs in per user; the rollouts plugin keeps one shared cache per cluster/,
    );
    expect(() =>
      kubeConfigFor({ ...base, authProvider: 'serviceAccount' }),
    ).toThrow(/has no serviceAccountToken/);
  });
});
