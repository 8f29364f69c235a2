import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      "Before publishing, when the portal's cluster is the local one: build the rendered repository's images for overlays/local",
    example: yaml.stringify({
      steps: [
        {
          id: 'local-images',
          action: 'golden-path:local:build-images',
          name: 'Build the images for the local cluster',
          if: '${{ parameters.deployWithFlux }}',
          input: { path: '.' },
        },
      ],
    }),
  },
];
