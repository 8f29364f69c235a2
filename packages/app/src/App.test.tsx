import fs from 'node:fs';
import path from 'node:path';
import { render, screen, within } from '@testing-library/react';
import yaml from 'yaml';
import App from './App';

/**
 * The plugins `app.packages: all` adds to the app, found as the CLI's bundler finds
 * them (frontend plugins and modules among this package's dependencies, and their
 * ./alpha entry points); Jest has no bundler to do it.
 */
function discoveredModules() {
  const { dependencies } = require('../package.json');
  return Object.keys(dependencies).flatMap(name => {
    const { backstage, exports } = require(`${name}/package.json`);
    if (
      !['frontend-plugin', 'frontend-plugin-module'].includes(backstage?.role)
    ) {
      return [];
    }
    const hasAlpha = typeof exports === 'object' && './alpha' in exports;
    return [
      { name, default: require(name).default },
      ...(hasAlpha
        ? [
            {
              name,
              export: './alpha',
              default: require(`${name}/alpha`).default,
            },
          ]
        : []),
    ];
  });
}

describe('App', () => {
  jest.setTimeout(30_000);

  it('renders the sidebar and the catalog at / as app-config.yaml configures them', async () => {
    const appConfig = yaml.parse(
      fs.readFileSync(
        path.resolve(__dirname, '../../../app-config.yaml'),
        'utf8',
      ),
    );
    (window as any)['__@backstage/discovered__'] = {
      modules: discoveredModules(),
    };
    // No backend here: every API call fails at once instead of reaching whatever
    // listens on the configured port.
    jest
      .spyOn(globalThis, 'fetch')
      .mockRejectedValue(new TypeError('no backend in this test'));
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            organization: appConfig.organization,
            backend: { baseUrl: 'http://localhost:7007' },
            techdocs: {
              storageUrl: 'http://localhost:7007/api/techdocs/static/docs',
            },
            app: {
              ...appConfig.app,
              // Without a sign-in page the app signs in as the guest user itself;
              // the guest sign-in page would need the auth backend.
              extensions: [
                ...appConfig.app.extensions,
                { 'sign-in-page:app': false },
              ],
            },
          },
          context: 'test',
        },
      ] as any,
    };

    render(App.createRoot());

    expect(
      await screen.findByRole(
        'heading',
        { name: 'Golden Path Catalog' },
        // The app and its plugins load lazily; a busy CI machine takes seconds.
        { timeout: 20_000 },
      ),
    ).toBeInTheDocument();
    const sidebarLinks = within(screen.getByTestId('sidebar-root'))
      .getAllByRole('link')
      .map(link => link.textContent);
    expect(sidebarLinks).toEqual(
      expect.arrayContaining(['Home', 'Catalog', 'Create', 'Docs', 'Settings']),
    );
    // An extension that throws is replaced by its error, not by an empty page.
    expect(document.body).not.toHaveTextContent(/Error in extension/);
  });
});
