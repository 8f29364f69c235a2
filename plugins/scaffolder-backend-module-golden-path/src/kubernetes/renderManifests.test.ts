import { createMockDirectory } from '@backstage/backend-test-utils';
import { fixtureManifests } from '../testUtils/kubeManifests';
import { renderManifests } from './renderManifests';

const kubectl = process.env.KUBECTL || 'kubectl';

describe('renderManifests', () => {
  const workspace = createMockDirectory();
  const render = (path: string) =>
    renderManifests({ workspacePath: workspace.path, path, kubectl });

  beforeEach(() => workspace.clear());

  it('renders a kustomization with kubectl kustomize: its namespace is applied to every object', async () => {
    workspace.setContent({
      k8s: fixtureManifests({
        name: 'web',
        namespace: 'shop',
        image: 'busybox:1.36',
      }),
    });
    const rendered = await render('k8s');
    expect(
      rendered.objects.map(o => [
        o.kind,
        o.metadata?.name,
        o.metadata?.namespace,
      ]),
    ).toEqual([
      ['Namespace', 'shop', undefined],
      ['Service', 'web', 'shop'],
      ['Deployment', 'web', 'shop'],
    ]);
    expect(rendered.text).toContain('namespace: shop');
  });

  it('renders an overlay that reaches into a sibling folder', async () => {
    workspace.setContent({
      k8s: fixtureManifests({
        name: 'web',
        namespace: 'shop',
        image: 'ghcr.io/acme/web:1.0.0',
      }),
      'overlays/local/kustomization.yaml': [
        'resources: [../../k8s]',
        'images:',
        '  - name: ghcr.io/acme/web',
        '    newName: localhost/web',
        '    newTag: dev',
      ].join('\n'),
    });
    const rendered = await render('overlays/local');
    const deployment = rendered.objects.find(
      o => o.kind === 'Deployment',
    ) as any;
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      'localhost/web:dev',
    );
  });

  it('reads every YAML file of a folder without a kustomization, Lists expanded', async () => {
    workspace.setContent({
      plain: {
        'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n',
        'b.yml': [
          'apiVersion: v1',
          'kind: List',
          'items:',
          '  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b1}}',
          '  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b2}}',
        ].join('\n'),
        'notes.txt': 'not a manifest',
        nested: {
          'c.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
        },
      },
    });
    const rendered = await render('plain');
    expect(rendered.objects.map(o => o.metadata?.name)).toEqual([
      'a',
      'b1',
      'b2',
    ]);
  });

  it("fails with kustomize's own message for a broken kustomization", async () => {
    workspace.setContent({
      k8s: { 'kustomization.yaml': 'resources: [missing.yaml]\n' },
    });
    await expect(render('k8s')).rejects.toThrow(
      /^kubectl kustomize k8s failed: .*missing\.yaml/,
    );
  });

  it.each([
    [
      '../outside',
      /Manifests path \.\.\/outside is outside the task's workspace/,
    ],
    ['/etc', /Manifests path \/etc is outside the task's workspace/],
    ['nope', /Manifests path nope is not a folder in the task's workspace/],
  ])('refuses %s', async (path, message) => {
    await expect(render(path)).rejects.toThrow(message);
  });

  it('names the document that is not a Kubernetes object', async () => {
    workspace.setContent({
      k8s: {
        'a.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Secret\n',
      },
    });
    await expect(render('k8s')).rejects.toThrow(
      'k8s, document 2: not a Kubernetes object (apiVersion, kind and metadata.name are required)',
    );
  });

  it('refuses a folder that holds no objects', async () => {
    workspace.setContent({ k8s: { 'README.md': '# nothing' } });
    await expect(render('k8s')).rejects.toThrow(
      'k8s holds no Kubernetes objects',
    );
  });
});
