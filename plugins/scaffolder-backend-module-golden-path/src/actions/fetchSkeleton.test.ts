import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { ScmIntegrations } from '@backstage/integration';
import { createFetchTemplateAction } from '@backstage/plugin-scaffolder-backend';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { createFetchSkeletonAction, listSkeletonParts } from './fetchSkeleton';

function writeTree(root: string, files: Record<string, string>) {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
}

describe('golden-path:fetch:skeleton', () => {
  let skeletonsDir: string;
  let workspacePath: string;

  beforeEach(() => {
    skeletonsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skeletons-'));
    workspacePath = fs.mkdtempSync(path.join(os.tmpdir(), 'workspace-'));
    writeTree(skeletonsDir, {
      '_shared/service/app/main.py': 'NAME = "${{ values.name }}"\n',
      '_shared/service/README.md': 'shared readme for ${{ values.name }}\n',
      '_shared/repo/.github/workflows/ci.yaml': 'run: echo ${{ github.sha }}\n',
      'static-web/README.md': 'static web readme for ${{ values.name }}\n',
    });
  });

  afterEach(() => {
    fs.rmSync(skeletonsDir, { recursive: true, force: true });
    fs.rmSync(workspacePath, { recursive: true, force: true });
  });

  function createAction() {
    const config = new ConfigReader({});
    return createFetchSkeletonAction({
      skeletonsDir,
      fetchTemplate: createFetchTemplateAction({
        reader: mockServices.urlReader.mock(),
        integrations: ScmIntegrations.fromConfig(config),
      }),
    });
  }

  it('lists the folders one and two levels down as parts', () => {
    expect(listSkeletonParts(skeletonsDir)).toEqual([
      '_shared',
      '_shared/repo',
      '_shared/service',
      'static-web',
    ]);
  });

  it('renders parts in order with the fetch:template engine, later parts replacing earlier files', async () => {
    const ctx = createMockActionContext({
      workspacePath,
      input: {
        parts: ['_shared/service', '_shared/repo', 'static-web'],
        values: { name: 'hello-web' },
        copyWithoutTemplating: ['.github/workflows/*'],
      },
    });

    await createAction().handler(ctx);

    const read = (file: string) =>
      fs.readFileSync(path.join(workspacePath, file), 'utf8');
    expect(read('app/main.py')).toBe('NAME = "hello-web"\n');
    expect(read('README.md')).toBe('static web readme for hello-web\n');
    // Workflows keep their own ${{ }} expressions untouched.
    expect(read('.github/workflows/ci.yaml')).toBe(
      'run: echo ${{ github.sha }}\n',
    );
    expect(ctx.output).toHaveBeenCalledWith('parts', [
      '_shared/service',
      '_shared/repo',
      'static-web',
    ]);
  });

  it('renders into a sub-folder when targetPath is given', async () => {
    const ctx = createMockActionContext({
      workspacePath,
      input: {
        parts: ['_shared/service'],
        targetPath: 'backend',
        values: { name: 'api' },
      },
    });

    await createAction().handler(ctx);

    expect(
      fs.readFileSync(path.join(workspacePath, 'backend/app/main.py'), 'utf8'),
    ).toBe('NAME = "api"\n');
  });

  it('rejects an unknown part with the list of available parts and writes nothing', async () => {
    const ctx = createMockActionContext({
      workspacePath,
      input: { parts: ['_shared/service', 'does-not-exist'] },
    });

    await expect(createAction().handler(ctx)).rejects.toThrow(
      /Unknown skeleton part\(s\) does-not-exist; available in .*: _shared, _shared\/repo, _shared\/service, static-web/,
    );
    expect(fs.readdirSync(workspacePath)).toEqual([]);
  });

  describe('part names that would escape the skeletons folder', () => {
    // A folder next to the skeletons root, with something a template must never render.
    let outsideDir: string;
    beforeEach(() => {
      outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
      writeTree(outsideDir, { 'secret.txt': 'not a skeleton\n' });
      fs.symlinkSync(outsideDir, path.join(skeletonsDir, 'linked'));
      fs.symlinkSync(outsideDir, path.join(skeletonsDir, '_shared/linked'));
    });
    afterEach(() => {
      fs.rmSync(outsideDir, { recursive: true, force: true });
    });

    it('are not offered as parts, symlinked folders included', () => {
      expect(listSkeletonParts(skeletonsDir)).toEqual([
        '_shared',
        '_shared/repo',
        '_shared/service',
        'static-web',
      ]);
    });

    it.each([
      ['a relative path out', () => `../${path.basename(outsideDir)}`],
      [
        'a path back out of a part',
        () => `_shared/../../${path.basename(outsideDir)}`,
      ],
      ['an absolute path', () => outsideDir],
      ['a symlink to a folder outside', () => 'linked'],
      ['a symlink below a part', () => '_shared/linked'],
    ])('refuses %s, writing nothing', async (_what, part) => {
      const ctx = createMockActionContext({
        workspacePath,
        input: { parts: ['_shared/service', part()], values: { name: 'x' } },
      });

      const refusal = createAction().handler(ctx);

      await expect(refusal).rejects.toThrow(InputError);
      await expect(refusal).rejects.toThrow(
        `Unknown skeleton part(s) ${part()};`,
      );
      expect(fs.readdirSync(workspacePath)).toEqual([]);
      expect(ctx.output).not.toHaveBeenCalled();
    });

    it('are refused by the input schema the scaffolder validates before the handler', () => {
      const schema = createAction().schema?.input as any;
      const pattern = new RegExp(schema.properties.parts.items.pattern);
      expect(pattern.test('../etc')).toBe(false);
      expect(pattern.test('/etc')).toBe(false);
      expect(pattern.test('_shared/../../x')).toBe(false);
      expect(pattern.test('_shared/service')).toBe(true);
    });
  });
});
