import { startTestBackend, mockServices } from '@backstage/backend-test-utils';
import {
  scaffolderActionsExtensionPoint,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { scaffolderModuleGoldenPath } from './module';

describe('scaffolderModuleGoldenPath', () => {
  it('registers the skeleton and publishing actions', async () => {
    const actions: TemplateAction<any, any, any>[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          {
            addActions: (...added: TemplateAction<any, any, any>[]) =>
              actions.push(...added),
          },
        ],
      ],
      features: [
        scaffolderModuleGoldenPath,
        mockServices.rootConfig.factory({
          data: { goldenPath: { skeletonsDir: '/tmp' } },
        }),
      ],
    });
    expect(actions.map(a => a.id)).toEqual([
      'golden-path:fetch:skeleton',
      'golden-path:publish:preflight',
      'golden-path:publish:rollback',
    ]);
  });
});
