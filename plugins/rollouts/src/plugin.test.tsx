import {
  ApiBlueprint,
  coreExtensionData,
} from '@backstage/frontend-plugin-api';
import { createExtensionTester } from '@backstage/frontend-test-utils';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import {
  hasKubernetesAnnotation,
  rolloutsApi,
  rolloutsEntityCard,
  rolloutsEntityContent,
  rolloutsPlugin,
} from './plugin';

describe('rolloutsPlugin', () => {
  it('applies to entities with the Kubernetes plugin annotations only', () => {
    const entity = (annotations?: Record<string, string>) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'x', annotations },
    });
    expect(
      hasKubernetesAnnotation(entity({ 'backstage.io/kubernetes-id': 'x' })),
    ).toBe(true);
    expect(
      hasKubernetesAnnotation(
        entity({ 'backstage.io/kubernetes-label-selector': 'app=x' }),
      ),
    ).toBe(true);
    expect(
      hasKubernetesAnnotation(entity({ 'backstage.io/techdocs-ref': 'dir:.' })),
    ).toBe(false);
    expect(hasKubernetesAnnotation(entity())).toBe(false);
  });

  it('mounts the Rollouts tab at rollouts with the annotation filter', () => {
    const tester = createExtensionTester(rolloutsEntityContent);
    expect(tester.get(coreExtensionData.routePath)).toBe('/rollouts');
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe('Rollouts');
    expect(tester.get(EntityContentBlueprint.dataRefs.filterFunction)).toBe(
      hasKubernetesAnnotation,
    );
  });

  it('takes the poll interval from its config and refuses nonsense', () => {
    expect(() =>
      createExtensionTester(rolloutsEntityContent, {
        config: { pollIntervalSeconds: 10 },
      }).get(coreExtensionData.routePath),
    ).not.toThrow();
    expect(() =>
      createExtensionTester(rolloutsEntityContent, {
        config: { pollIntervalSeconds: 1 },
      }).get(coreExtensionData.routePath),
    ).toThrow(/pollIntervalSeconds/);
  });

  it('shows the card on the same entities and provides the client API', () => {
    expect(
      createExtensionTester(rolloutsEntityCard).get(
        EntityCardBlueprint.dataRefs.filterFunction,
      ),
    ).toBe(hasKubernetesAnnotation);
    const factory = createExtensionTester(rolloutsApi).get(
      ApiBlueprint.dataRefs.factory,
    );
    expect(factory.api.id).toBe('plugin.rollouts.client');
    expect(Object.keys(factory.deps).sort()).toEqual([
      'discoveryApi',
      'fetchApi',
    ]);
    expect(rolloutsPlugin.pluginId).toBe('rollouts');
  });
});
