import {
  checkBranch,
  FluxRegistration,
  normalizeRepositoryPath,
  parseRepositoryUrl,
  renderFluxObjects,
  secretFor,
} from './fluxObjects';

const REGISTRATION: FluxRegistration = {
  name: 'hello-web',
  fluxNamespace: 'flux-system',
  url: 'http://127.0.0.1:3300/golden-path/hello-web.git',
  branch: 'main',
  path: './overlays/local',
  targetNamespace: 'hello-web',
  entityRef: 'component:default/hello-web',
  intervalSeconds: 10,
  timeoutSeconds: 180,
  prune: true,
  secretName: 'golden-path-gitea',
  serviceAccountName: 'golden-path-gitops',
};

describe('renderFluxObjects', () => {
  it('renders a GitRepository of the branch and a Kustomization of its overlay, both owned by the entity', () => {
    const { gitRepository, kustomization } = renderFluxObjects(REGISTRATION);
    const metadata = {
      name: 'hello-web',
      namespace: 'flux-system',
      labels: {
        'app.kubernetes.io/managed-by': 'backstage-golden-path',
        'app.kubernetes.io/part-of': 'hello-web',
      },
      annotations: {
        'rollouts.backstage.io/entity-ref': 'component:default/hello-web',
      },
    };
    expect(gitRepository).toEqual({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata,
      spec: {
        url: 'http://127.0.0.1:3300/golden-path/hello-web.git',
        ref: { branch: 'main' },
        interval: '10s',
        timeout: '60s',
        secretRef: { name: 'golden-path-gitea' },
      },
    });
    expect(kustomization).toEqual({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata,
      spec: {
        sourceRef: { kind: 'GitRepository', name: 'hello-web' },
        path: './overlays/local',
        interval: '5m',
        retryInterval: '10s',
        timeout: '180s',
        prune: true,
        wait: true,
        targetNamespace: 'hello-web',
        commonMetadata: {
          annotations: {
            'rollouts.backstage.io/entity-ref': 'component:default/hello-web',
          },
        },
        serviceAccountName: 'golden-path-gitops',
      },
    });
  });

  it('leaves out the secretRef and the ServiceAccount when none is configured', () => {
    const { gitRepository, kustomization } = renderFluxObjects({
      ...REGISTRATION,
      secretName: undefined,
      serviceAccountName: undefined,
      prune: false,
      intervalSeconds: 5,
    });
    expect(gitRepository.spec).not.toHaveProperty('secretRef');
    expect(kustomization.spec).not.toHaveProperty('serviceAccountName');
    expect(kustomization.spec.prune).toBe(false);
    // Retries never hammer the API server faster than every 10 s.
    expect(kustomization.spec.retryInterval).toBe('10s');
    expect(gitRepository.spec.interval).toBe('5s');
  });
});

describe('parseRepositoryUrl', () => {
  it('accepts http(s) clone URLs and returns the host with its port', () => {
    expect(
      parseRepositoryUrl('http://127.0.0.1:3300/golden-path/hello-web.git'),
    ).toEqual({
      url: 'http://127.0.0.1:3300/golden-path/hello-web.git',
      host: '127.0.0.1:3300',
    });
    expect(parseRepositoryUrl('https://github.com/acme/shop').host).toBe(
      'github.com',
    );
  });

  it.each([
    ['<example>', 'is not a URL'],
    ['git@github.com:acme/shop.git', 'is not a URL'],
    ['ssh://git@github.com/acme/shop.git', 'http(s) clone URLs only'],
    ['file:///srv/git/shop.git', 'http(s) clone URLs only'],
    ['http://user:secret@127.0.0.1:3300/o/r.git', 'carries credentials'],
    ['http://127.0.0.1:3300/o/r.git?ref=x', 'is not a repository'],
    ['http://127.0.0.1:3300/o/r.git#main', 'is not a repository'],
    ['http://127.0.0.1:3300/', 'is not a repository'],
  ])('refuses %s', (url, message) => {
    expect(() => parseRepositoryUrl(url)).toThrow(message);
  });

  it('never repeats the password of a refused URL', () => {
    expect(() =>
      parseRepositoryUrl('http://user:s3cret@127.0.0.1:3300/o/r.git'),
    ).toThrow(/^(?!.*s3cret).*$/s);
  });
});

describe('checkBranch', () => {
  it.each(['main', 'release/1.2', 'feature-x_y'])('accepts %s', branch => {
    expect(() => checkBranch(branch)).not.toThrow();
  });

  it.each([
    '',
    'has space',
    'a..b',
    '-flag',
    '/lead',
    'trail/',
    'dot.',
    'x.lock',
    'a:b',
    'a~1',
    'a^',
    'q?',
    'star*',
    '[x',
    'back\\slash',
    'at@{1}',
    'dbl//slash',
    'nl\nx',
  ])('refuses %j', branch => {
    expect(() => checkBranch(branch)).toThrow('not a valid git branch name');
  });
});

describe('normalizeRepositoryPath', () => {
  it.each([
    ['overlays/local', './overlays/local'],
    ['./overlays/local/', './overlays/local'],
    ['k8s', './k8s'],
    ['.', './'],
    ['a/../k8s', './k8s'],
  ])('writes %s as %s', (given, expected) => {
    expect(normalizeRepositoryPath(given)).toBe(expected);
  });

  it.each(['/etc', '..', '../other', 'k8s/../../x', ' '])(
    'refuses %j, which is not inside the repository',
    folder => {
      expect(() => normalizeRepositoryPath(folder)).toThrow(
        'must be a folder inside the repository',
      );
    },
  );
});

describe('secretFor', () => {
  const credentials = [
    { host: '127.0.0.1:3300', secretName: 'golden-path-gitea' },
    { host: 'GitHub.com', secretName: 'github-read' },
  ];

  it('finds the Secret by host and port, case-insensitively', () => {
    expect(secretFor('127.0.0.1:3300', credentials)).toBe('golden-path-gitea');
    expect(secretFor('github.com', credentials)).toBe('github-read');
  });

  it('has none for another port or host', () => {
    expect(secretFor('127.0.0.1:3301', credentials)).toBeUndefined();
    expect(secretFor('gitlab.com', credentials)).toBeUndefined();
  });
});
