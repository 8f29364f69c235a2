import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      "After publishing: server-side apply of the local overlay into the template's namespace",
    example: yaml.stringify({
      steps: [
        {
          id: 'apply-manifests',
          action: 'golden-path:kubernetes:apply',
          name: 'Deploy to the cluster',
          input: {
            path: 'overlays/local',
            namespace: '${{ parameters.namespace }}',
            entityRef: 'component:default/${{ parameters.name }}',
          },
        },
      ],
    }),
  },
];
