import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubeConfigFor, resolveClusterIdentities } from './clusterIdentity';
import { ClusterConnectionConfig } from './readClusterConfigs';

const cluster = (
  overrides: Partial<ClusterConnectionConfig> = {},
): ClusterConnectionConfig => ({
  name: 'local',
  url: 'https://127.0.0.1:6443',
  authProvider: 'serviceAccount',
  skipTLSVerify: false,
  ...overrides,
});

describe('resolveClusterIdentities', () => {
  let dir: string;
  let inClusterToken: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollouts-identity-'));
    inClusterToken = path.join(dir, 'token');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads with the Kubernetes plugin's token but never writes with it", () => {
    const ids = resolveClusterIdentities(
      cluster({ serviceAccountToken: 'read-only' }),
      undefined,
      inClusterToken,
    );
    expect(ids.read).toEqual({ source: { token: 'read-only' } });
    expect(ids.write).toEqual({
      mode: 'disabled',
      reason: expect.stringContaining(
        "they need the rollouts plugin's own identity (rollouts.clusters[{name: local, serviceAccountTokenFile}])",
      ),
    });
    expect(ids.warning).toBeUndefined();
  });

  it('reads and writes with the rollouts identity when one is configured', () => {
    const ids = resolveClusterIdentities(
      cluster({ serviceAccountToken: 'read-only' }),
      { serviceAccountTokenFile: '/var/run/secrets/rollouts/token' },
      inClusterToken,
    );
    const source = { tokenFile: '/var/run/secrets/rollouts/token' };
    expect(ids.read).toEqual({ source });
    expect(ids.write).toEqual({ mode: 'plugin', source });
  });

  it('warns when the rollouts identity is the Kubernetes plugin identity', () => {
    expect(
      resolveClusterIdentities(
        cluster({ serviceAccountToken: 'same' }),
        { serviceAccountToken: 'same' },
        inClusterToken,
      ).warning,
    ).toMatch(/same identity as the Kubernetes plugin's/);
    fs.writeFileSync(inClusterToken, 'pod-token');
    expect(
      resolveClusterIdentities(
        cluster(),
        { serviceAccountTokenFile: inClusterToken },
        inClusterToken,
      ).warning,
    ).toMatch(/same identity/);
  });

  it("reads with the pod's own token file in a cluster without a configured token", () => {
    fs.writeFileSync(inClusterToken, 'pod-token');
    expect(
      resolveClusterIdentities(cluster(), undefined, inClusterToken).read,
    ).toEqual({ source: { tokenFile: inClusterToken } });
    fs.rmSync(inClusterToken);
    expect(
      resolveClusterIdentities(cluster(), undefined, inClusterToken).read,
    ).toEqual({ error: expect.stringContaining('does not run in a pod') });
  });

  it("writes with the user's own credentials where the cluster signs users in", () => {
    const ids = resolveClusterIdentities(
      cluster({ authProvider: 'oidc', oidcTokenProvider: 'okta' }),
      { serviceAccountToken: 'rollouts-reader' },
      inClusterToken,
    );
    expect(ids.read).toEqual({ source: { token: 'rollouts-reader' } });
    expect(ids.write).toEqual({
      mode: 'user',
      authProvider: 'oidc',
      oidcTokenProvider: 'okta',
    });
    expect(
      resolveClusterIdentities(
        cluster({ authProvider: 'google' }),
        undefined,
        inClusterToken,
      ).read,
    ).toEqual({
      error: expect.stringContaining('needs its own read identity there'),
    });
  });

  it('never writes through kubectl proxy, which the Kubernetes plugin shares', () => {
    const ids = resolveClusterIdentities(
      cluster({
        authProvider: 'localKubectlProxy',
        url: 'http://localhost:8001',
      }),
      undefined,
      inClusterToken,
    );
    expect(ids.read).toEqual({ source: { none: true } });
    expect(ids.write).toMatchObject({
      mode: 'disabled',
      reason: expect.stringContaining('kubectl proxy is shared'),
    });
  });
});

describe('kubeConfigFor', () => {
  afterEach(() => jest.useRealTimers());

  it('uses a token and the CA', () => {
    const kc = kubeConfigFor(
      {
        name: 'local',
        url: 'https://127.0.0.1:6443',
        caData: 'Q0E=',
        skipTLSVerify: false,
      },
      { token: 'abc' },
    );
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://127.0.0.1:6443',
      caData: 'Q0E=',
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()?.token).toBe('abc');
  });

  it('re-reads a token file as it rotates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollouts-token-'));
    const file = path.join(dir, 'token');
    try {
      fs.writeFileSync(file, 'token-1');
      jest.useFakeTimers({ now: new Date('2026-11-29T10:00:00Z') });
      const kc = kubeConfigFor(
        { name: 'c', url: 'https://127.0.0.1:6443', skipTLSVerify: false },
        { tokenFile: file },
      );
      const bearer = async () => {
        const opts: { headers: Record<string, string> } = { headers: {} };
        await kc.applyToHTTPSOptions(opts as any);
        return opts.headers.Authorization;
      };
      expect(await bearer()).toBe('Bearer token-1');
      fs.writeFileSync(file, 'token-2');
      // The kubelet rotates projected tokens well before they expire; the
      // file is re-read at most every 60 s, as client-go does.
      expect(await bearer()).toBe('Bearer token-1');
      jest.setSystemTime(new Date('2026-11-29T10:01:01Z'));
      expect(await bearer()).toBe('Bearer token-2');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
