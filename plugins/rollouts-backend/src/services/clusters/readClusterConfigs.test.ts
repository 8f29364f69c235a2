import { ConfigReader } from '@backstage/config';
import { readClusterSources } from './readClusterConfigs';

const config = (
  clusters: object[],
  extraMethods: object[] = [],
  rollouts: object = {},
) =>
  new ConfigReader({
    kubernetes: {
      clusterLocatorMethods: [...extraMethods, { type: 'config', clusters }],
    },
    rollouts,
  });

describe('readClusterSources', () => {
  it('reads the Kubernetes plugin cluster block and reports locators it cannot read', () => {
    const sources = readClusterSources(
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
            authMetadata: {
              'kubernetes.io/auth-provider': 'oidc',
              'kubernetes.io/oidc-token-provider': 'okta',
            },
            skipTLSVerify: true,
          },
        ],
        [{ type: 'catalog' }],
      ),
    );
    expect(sources.clusters).toEqual([
      {
        name: 'local',
        url: 'https://127.0.0.1:6443',
        authProvider: 'serviceAccount',
        oidcTokenProvider: undefined,
        serviceAccountToken: 'abc',
        caData: 'Q0E=',
        caFile: undefined,
        skipTLSVerify: false,
      },
      {
        name: 'prod',
        url: 'https://prod:6443',
        authProvider: 'oidc',
        oidcTokenProvider: 'okta',
        serviceAccountToken: undefined,
        caData: undefined,
        caFile: undefined,
        skipTLSVerify: true,
      },
    ]);
    expect(sources.skipped).toEqual([
      {
        name: 'catalog locator',
        reason: expect.stringContaining(
          "Clusters found by the 'catalog' cluster locator are not shown",
        ),
      },
    ]);
  });

  it('reads caFile (not caFilePath) as the Kubernetes plugin does', () => {
    const sources = readClusterSources(
      config([
        {
          name: 'in-cluster',
          url: 'https://kubernetes.default.svc',
          authProvider: 'serviceAccount',
          caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
        },
      ]),
    );
    expect(sources.clusters[0].caFile).toBe(
      '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    );
  });

  it('adds the cluster of a localKubectlProxy locator', () => {
    const sources = readClusterSources(
      new ConfigReader({
        kubernetes: { clusterLocatorMethods: [{ type: 'localKubectlProxy' }] },
      }),
    );
    expect(sources.clusters).toEqual([
      {
        name: 'local',
        url: 'http://localhost:8001',
        authProvider: 'localKubectlProxy',
        skipTLSVerify: false,
      },
    ]);
  });

  it('reads the rollouts identity of each cluster', () => {
    const sources = readClusterSources(
      config(
        [{ name: 'local', url: 'https://a', authProvider: 'serviceAccount' }],
        [],
        {
          clusters: [
            {
              name: 'local',
              serviceAccountTokenFile: '/var/run/rollouts/token',
            },
          ],
        },
      ),
    );
    expect(sources.identities.get('local')).toEqual({
      serviceAccountToken: undefined,
      serviceAccountTokenFile: '/var/run/rollouts/token',
    });
  });

  it('is empty without config and rejects duplicates, missing auth and bad rollouts identities', () => {
    expect(readClusterSources(new ConfigReader({}))).toEqual({
      clusters: [],
      skipped: [],
      identities: new Map(),
      warnings: [],
    });
    const c = { name: 'a', url: 'https://a', authProvider: 'serviceAccount' };
    expect(() => readClusterSources(config([c, c]))).toThrow(
      "Duplicate cluster name 'a'",
    );
    expect(() =>
      readClusterSources(config([{ name: 'b', url: 'https://b' }])),
    ).toThrow(/has no auth provider/);
    expect(() =>
      readClusterSources(
        config([c], [], {
          clusters: [{ name: 'lcoal', serviceAccountToken: 't' }],
        }),
      ),
    ).toThrow(
      "rollouts.clusters[0].name 'lcoal' is not a cluster of kubernetes.clusterLocatorMethods (known: a)",
    );
    expect(() =>
      readClusterSources(
        config([c], [], {
          clusters: [
            {
              name: 'a',
              serviceAccountToken: 't',
              serviceAccountTokenFile: '/f',
            },
          ],
        }),
      ),
    ).toThrow(/sets both serviceAccountToken and serviceAccountTokenFile/);
  });

  it('reads a rollouts identity whose token is empty (an unset variable) as none, and says so', () => {
    const c = { name: 'a', url: 'https://a', authProvider: 'serviceAccount' };
    for (const entry of [
      { name: 'a' },
      { name: 'a', serviceAccountToken: '' },
    ]) {
      const sources = readClusterSources(
        config([c], [], { clusters: [entry] }),
      );
      expect(sources.identities.size).toBe(0);
      expect(sources.warnings).toEqual([
        expect.stringMatching(
          /rollouts.clusters\[0\] \('a'\) has no serviceAccountToken .* writes to 'a' stay disabled/,
        ),
      ]);
    }
  });
});
