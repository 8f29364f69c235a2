import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { clusterConnector } from './clusterClient';
import { readKubernetesActionSettings } from './settings';

const settingsOf = (kubernetes: object | undefined, env = {}) =>
  readKubernetesActionSettings(
    new ConfigReader(kubernetes ? { goldenPath: { kubernetes } } : {}),
    env,
  );

describe('readKubernetesActionSettings', () => {
  it('reads the cluster, identity and defaults', () => {
    const settings = settingsOf({
      url: 'https://127.0.0.1:6443',
      caData: 'Q0E=',
      serviceAccountToken: 'sa-token',
      protectedNamespaces: ['backstage'],
    });
    expect(settings).toEqual({
      connection: {
        url: 'https://127.0.0.1:6443',
        caData: 'Q0E=',
        caFile: undefined,
        skipTLSVerify: false,
        serviceAccountToken: 'sa-token',
        serviceAccountTokenFile: undefined,
      },
      fieldManager: 'backstage-golden-path',
      protectedNamespaces: [
        'default',
        'kube-system',
        'kube-public',
        'kube-node-lease',
        'backstage',
      ],
      dryRunNamespace: 'golden-path-dry-run',
      manifestChecksScript: path.resolve(
        '../../tools/manifest-checks/check.sh',
      ),
      kubectl: 'kubectl',
    });
  });

  it('takes kubectl from KUBECTL, as the repository scripts do', () => {
    expect(settingsOf(undefined, { KUBECTL: '/opt/k8s/kubectl' }).kubectl).toBe(
      '/opt/k8s/kubectl',
    );
  });

  it('lets the portal start without a cluster and names the keys to set', () => {
    expect(settingsOf(undefined).connection).toEqual({
      missing: expect.stringMatching(
        /^goldenPath\.kubernetes\.url is not set: .*goldenPath\.kubernetes\.caData or goldenPath\.kubernetes\.caFile, and goldenPath\.kubernetes\.serviceAccountToken or goldenPath\.kubernetes\.serviceAccountTokenFile/,
      ),
    });
  });

  it('treats an unset ${VARIABLE:-} token as missing, naming the key', () => {
    expect(
      settingsOf({ url: 'https://k8s:6443', serviceAccountToken: '' })
        .connection,
    ).toEqual({
      missing: expect.stringMatching(
        /^goldenPath\.kubernetes\.serviceAccountToken \(or goldenPath\.kubernetes\.serviceAccountTokenFile\) is not set: .* at https:\/\/k8s:6443/,
      ),
    });
  });

  it.each([
    [
      { serviceAccountToken: 't', serviceAccountTokenFile: '/t' },
      'goldenPath.kubernetes.serviceAccountToken and goldenPath.kubernetes.serviceAccountTokenFile are both set; keep one',
    ],
    [
      { serviceAccountToken: 't', caData: 'x', caFile: '/ca' },
      'goldenPath.kubernetes.caData and goldenPath.kubernetes.caFile are both set; keep one',
    ],
    [
      { serviceAccountToken: 't', caData: 'x', skipTLSVerify: true },
      'goldenPath.kubernetes.skipTLSVerify is true while a CA is configured; remove skipTLSVerify',
    ],
  ])('fails at startup on contradictory settings %#', (extra, message) => {
    expect(() => settingsOf({ url: 'https://k8s:6443', ...extra })).toThrow(
      message,
    );
  });
});

describe('clusterConnector', () => {
  it('fails the task, not the portal, when the cluster is not configured', async () => {
    const connect = clusterConnector(settingsOf(undefined));
    await expect(connect()).rejects.toThrow(
      /^goldenPath\.kubernetes\.url is not set/,
    );
  });

  it('names the token file key when the file cannot be read', async () => {
    const file = path.join(os.tmpdir(), 'golden-path-no-such-token');
    const connect = clusterConnector(
      settingsOf({
        url: 'https://k8s:6443',
        skipTLSVerify: true,
        serviceAccountTokenFile: file,
      }),
    );
    await expect(connect()).rejects.toThrow(
      `goldenPath.kubernetes.serviceAccountTokenFile (${file}) cannot be read`,
    );
  });
});
