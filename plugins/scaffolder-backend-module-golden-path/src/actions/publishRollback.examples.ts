import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Last step: when a step failed, delete the repository publish:github or publish:gitea created in this task if it is still empty (the host of repoUrl decides which server)',
    example: yaml.stringify({
      steps: [
        {
          id: 'rollback',
          action: 'golden-path:publish:rollback',
          name: 'Remove the empty repository if publishing failed',
          if: '${{ failure() }}',
          input: {
            repoUrl: 'github.com?owner=platform-team&repo=hello-web',
            createdAfter: "${{ steps['preflight'].output.checkedAt }}",
          },
        },
      ],
    }),
  },
];
