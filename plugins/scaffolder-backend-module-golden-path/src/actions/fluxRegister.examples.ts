import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'After publishing to the local Gitea: Flux reconciles overlays/local into the namespace; the task goes on once the first commit is applied',
    example: yaml.stringify({
      steps: [
        {
          id: 'flux',
          action: 'golden-path:flux:register',
          name: 'Register with Flux',
          input: {
            url: "${{ steps['publish-gitea'].output.remoteUrl }}",
            branch: 'main',
            path: 'overlays/local',
            namespace: '${{ parameters.namespace }}',
            entityRef: 'component:default/${{ parameters.name }}',
            intervalSeconds: 10,
          },
        },
      ],
    }),
  },
  {
    description:
      'Return as soon as every applied object is healthy (the Kustomization is Ready), at most 10 minutes',
    example: yaml.stringify({
      steps: [
        {
          id: 'flux',
          action: 'golden-path:flux:register',
          name: 'Register with Flux',
          input: {
            url: "${{ steps['publish-gitea'].output.remoteUrl }}",
            namespace: '${{ parameters.namespace }}',
            entityRef: 'component:default/${{ parameters.name }}',
            waitFor: 'ready',
            waitTimeoutSeconds: 600,
          },
        },
      ],
    }),
  },
];
