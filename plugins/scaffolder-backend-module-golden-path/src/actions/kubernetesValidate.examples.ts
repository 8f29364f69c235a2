import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Before publishing: server-side dry-run of the rendered k8s/ folder and its local overlay, plus the project checks',
    example: yaml.stringify({
      steps: [
        {
          id: 'validate-manifests',
          action: 'golden-path:kubernetes:validate',
          name: 'Check the manifests against the cluster',
          input: {
            paths: ['k8s', 'overlays/local'],
            namespace: '${{ parameters.namespace }}',
            entityRef: 'component:default/${{ parameters.name }}',
          },
        },
      ],
    }),
  },
];
