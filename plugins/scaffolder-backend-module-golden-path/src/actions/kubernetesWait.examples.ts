import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'After the apply step: wait up to five minutes for every Deployment of the namespace to roll out',
    example: yaml.stringify({
      steps: [
        {
          id: 'wait-for-rollout',
          action: 'golden-path:kubernetes:wait',
          name: 'Wait for the pods',
          input: {
            namespace: '${{ parameters.namespace }}',
            timeoutSeconds: 300,
          },
        },
      ],
    }),
  },
];
