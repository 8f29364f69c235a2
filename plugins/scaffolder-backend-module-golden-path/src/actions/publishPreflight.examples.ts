import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Check, before rendering anything, that publish:github can create and push the repository chosen in the form',
    example: yaml.stringify({
      steps: [
        {
          id: 'preflight',
          action: 'golden-path:publish:preflight',
          name: 'Check that the repository can be published',
          input: {
            repoUrl: 'github.com?owner=platform-team&repo=hello-web',
            repoVisibility: 'private',
          },
        },
      ],
    }),
  },
  {
    description:
      'Check a public repository without GitHub workflows: a classic token then needs only public_repo',
    example: yaml.stringify({
      steps: [
        {
          id: 'preflight',
          action: 'golden-path:publish:preflight',
          name: 'Check that the repository can be published',
          input: {
            repoUrl: 'github.com?owner=platform-team&repo=hello-docs',
            repoVisibility: 'public',
            workflows: false,
          },
        },
      ],
    }),
  },
  {
    description:
      'Check the local Gitea (an integrations.gitea host) before publish:gitea: the server answers, accepts the token, the organisation exists, the token may create repositories in it, and the name is free',
    example: yaml.stringify({
      steps: [
        {
          id: 'preflight',
          action: 'golden-path:publish:preflight',
          name: 'Check that the repository can be published',
          input: {
            repoUrl: '127.0.0.1:3300?owner=golden-path&repo=hello-web',
            repoVisibility: 'private',
          },
        },
      ],
    }),
  },
];
