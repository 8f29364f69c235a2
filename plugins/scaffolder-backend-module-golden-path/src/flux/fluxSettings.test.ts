import { ConfigReader } from '@backstage/config';
import { readFluxSettings } from './fluxSettings';

const read = (flux: object | undefined) =>
  readFluxSettings(
    new ConfigReader(flux === undefined ? {} : { goldenPath: { flux } }),
  );

describe('readFluxSettings', () => {
  it('defaults to flux-system, Flux default identity and no credentials', () => {
    expect(read(undefined)).toEqual({
      namespace: 'flux-system',
      serviceAccountName: undefined,
      gitCredentials: [],
    });
  });

  it('reads the namespace, the ServiceAccount and the Secret per Git host', () => {
    expect(
      read({
        namespace: 'gitops',
        serviceAccountName: 'golden-path-gitops',
        gitCredentials: [
          { host: '127.0.0.1:3300', secretName: 'golden-path-gitea' },
        ],
      }),
    ).toEqual({
      namespace: 'gitops',
      serviceAccountName: 'golden-path-gitops',
      gitCredentials: [
        { host: '127.0.0.1:3300', secretName: 'golden-path-gitea' },
      ],
    });
  });

  it('treats an empty value (an unset ${VARIABLE:-}) as not set', () => {
    expect(read({ serviceAccountName: '' }).serviceAccountName).toBeUndefined();
  });

  it.each([
    [{ namespace: 'Flux_System' }, 'goldenPath.flux.namespace must be'],
    [
      { serviceAccountName: 'a b' },
      'goldenPath.flux.serviceAccountName must be',
    ],
    [
      { gitCredentials: [{ host: 'http://127.0.0.1:3300', secretName: 's' }] },
      'gitCredentials[0].host must be a host',
    ],
    [
      {
        gitCredentials: [{ host: '127.0.0.1:3300', secretName: 'Not_A_Name' }],
      },
      'gitCredentials[0].secretName must be',
    ],
    [{ gitCredentials: [{ host: '127.0.0.1:3300' }] }, 'secretName'],
  ])('refuses %j at startup', (flux, message) => {
    expect(() => read(flux)).toThrow(message);
  });
});
