import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Render the shared FastAPI service part, then the static web application part on top of it',
    example: yaml.stringify({
      steps: [
        {
          id: 'fetch',
          action: 'golden-path:fetch:skeleton',
          name: 'Render the FastAPI skeleton',
          input: {
            parts: ['_shared/service', '_shared/repo', 'static-web'],
            values: { name: 'hello-web', owner: 'group:default/platform-team' },
            copyWithoutTemplating: ['.github/workflows/*'],
          },
        },
      ],
    }),
  },
];
