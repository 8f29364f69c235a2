import { KubeDeployment } from '@golden-path/plugin-rollouts-common';
import { quotaOverruns } from './quotaFit';

const quota = {
  spec: {
    hard: {
      pods: '4',
      'requests.cpu': '1',
      'requests.memory': '1Gi',
      'limits.cpu': '2',
      'limits.memory': '1Gi',
    },
  },
};

function app(
  replicas: number,
  strategy: object | undefined,
  resources: object = {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '500m', memory: '512Mi' },
  },
): KubeDeployment {
  return {
    metadata: { name: 'app' },
    spec: {
      replicas,
      strategy,
      template: { spec: { containers: [{ name: 'api', resources }] } },
    },
  } as KubeDeployment;
}

const noSurge = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0 } };

describe('quotaOverruns', () => {
  it('accepts pods that fill the quota exactly', () => {
    expect(quotaOverruns(quota, [app(2, noSurge)])).toEqual([]);
  });

  it('counts the surge pod of a rolling update, 25% rounded up when unset', () => {
    expect(quotaOverruns(quota, [app(2, undefined)])).toEqual([
      `limits.memory: ${3 * 512 * 2 ** 20} needed, quota 1Gi`,
    ]);
    expect(
      quotaOverruns(quota, [
        app(2, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%' } }),
      ]),
    ).toEqual([`limits.memory: ${3 * 512 * 2 ** 20} needed, quota 1Gi`]);
  });

  it('adds no surge pod for Recreate', () => {
    expect(quotaOverruns(quota, [app(2, { type: 'Recreate' })])).toEqual([]);
  });

  it('names every key a replica too many exceeds, pods included', () => {
    expect(
      quotaOverruns(quota, [app(5, noSurge, { limits: { memory: '10Mi' } })]),
    ).toEqual([
      'app/api declares no requests.cpu',
      'app/api declares no limits.cpu',
      'pods: 5 needed, quota 4',
    ]);
  });

  it('fills undeclared resources from the LimitRange defaults, as admission does', () => {
    const limitRange = {
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: '500m', memory: '512Mi' },
            defaultRequest: { cpu: '100m', memory: '128Mi' },
          },
        ],
      },
    };
    expect(quotaOverruns(quota, [app(2, noSurge, {})], [limitRange])).toEqual(
      [],
    );
    expect(quotaOverruns(quota, [app(3, noSurge, {})], [limitRange])).toEqual([
      `limits.memory: ${3 * 512 * 2 ** 20} needed, quota 1Gi`,
    ]);
  });
});
