import { startTestBackend, mockServices } from '@backstage/backend-test-utils';
import {
  scaffolderActionsExtensionPoint,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { scaffolderModuleGoldenPath } from './module';
import { goldenPathKubernetesApplyPermission } from './permissions';

describe('scaffolderModuleGoldenPath', () => {
  it('registers the skeleton, publishing, Kubernetes, Flux and local-image actions, and the apply permission', async () => {
    const actions: TemplateAction<any, any, any>[] = [];
    const permissionsRegistry = mockServices.permissionsRegistry.mock();
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
        permissionsRegistry.factory,
      ],
    });
    expect(actions.map(a => a.id)).toEqual([
      'golden-path:fetch:skeleton',
      'golden-path:publish:preflight',
      'golden-path:publish:rollback',
      'golden-path:kubernetes:validate',
      'golden-path:kubernetes:apply',
      'golden-path:kubernetes:wait',
      'golden-path:flux:register',
      'golden-path:local:build-images',
    ]);
    expect(permissionsRegistry.addPermissions).toHaveBeenCalledWith([
      goldenPathKubernetesApplyPermission,
    ]);
  });
});
