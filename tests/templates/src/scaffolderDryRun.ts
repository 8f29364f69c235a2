import fs from 'node:fs';
import path from 'node:path';
import type { BackendFeature } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderModuleGitea from '@backstage/plugin-scaffolder-backend-module-gitea';
import scaffolderModuleGithub from '@backstage/plugin-scaffolder-backend-module-github';
import scaffolderModuleGoldenPath from '@golden-path/plugin-scaffolder-backend-module-golden-path';
import request from 'supertest';
import yaml from 'yaml';

/** The monorepo root: the nearest folder above the working directory with backstage.json. */
function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'backstage.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        `No backstage.json above ${from}; run the tests inside the repository`,
      );
    }
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(process.cwd());
export const TEMPLATES_DIR = path.join(REPO_ROOT, 'templates');

/** The local Git server's host, as the templates' RepoUrlPicker and app-config.yaml name it. */
export const LOCAL_GITEA_HOST = '127.0.0.1:3300';

export interface TemplateCase {
  /** Template folder name, equal to metadata.name. */
  template: string;
  /** Example file name without extension. */
  example: string;
  templateEntity: any;
  values: Record<string, unknown>;
}

/**
 * Fills in the `default` of every top-level form field the example leaves out, as the
 * Create page's form does before it submits.
 */
export function withFormDefaults(
  templateEntity: any,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const steps = [templateEntity.spec.parameters ?? []].flat();
  const defaults: Record<string, unknown> = {};
  for (const step of steps) {
    for (const [key, field] of Object.entries<any>(step.properties ?? {})) {
      if (field && 'default' in field) defaults[key] = field.default;
    }
  }
  return { ...defaults, ...values };
}

/** Every template with every example input set kept next to it. */
export function discoverTemplateCases(): TemplateCase[] {
  if (!fs.existsSync(TEMPLATES_DIR)) return [];
  return fs
    .readdirSync(TEMPLATES_DIR, { withFileTypes: true })
    .filter(entry => entry.isDirectory())
    .flatMap(entry => {
      const dir = path.join(TEMPLATES_DIR, entry.name);
      const templateEntity = yaml.parse(
        fs.readFileSync(path.join(dir, 'template.yaml'), 'utf8'),
      );
      const examplesDir = path.join(dir, 'examples');
      const examples = fs.existsSync(examplesDir)
        ? fs.readdirSync(examplesDir).filter(f => /\.ya?ml$/.test(f))
        : [];
      return examples.map(file => ({
        template: entry.name,
        example: file.replace(/\.ya?ml$/, ''),
        templateEntity,
        values: withFormDefaults(
          templateEntity,
          yaml.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')),
        ),
      }));
    });
}

/**
 * The portal's config as a test backend with the scaffolder needs it: the skeletons of
 * this repository, the given integrations and, for real tasks, a working directory.
 */
export function scaffolderConfig(options: {
  /** The `integrations` section of app-config.yaml. */
  integrations: Record<string, any>;
  workingDirectory?: string;
}) {
  return mockServices.rootConfig.factory({
    data: {
      ...(options.workingDirectory && {
        backend: { workingDirectory: options.workingDirectory },
      }),
      goldenPath: { skeletonsDir: path.join(REPO_ROOT, 'fastapi-skeletons') },
      integrations: options.integrations,
    },
  });
}

export interface DryRunResult {
  status: number;
  body: any;
  /** Generated files, path → content. */
  files: Map<string, Buffer>;
  /** The generated files with the executable bit (scripts the docs tell users to run). */
  executables: Set<string>;
}

/**
 * A backend with the real scaffolder plugin, its GitHub and Gitea modules and the
 * golden-path module, with the catalog mocked, and the integrations of app-config.yaml
 * without credentials (a dry run needs none). Templates are rendered through its
 * `POST /api/scaffolder/v2/dry-run` endpoint, exactly as the template editor does.
 */
export async function startScaffolder(options?: {
  /** Replaces the golden-path module, e.g. with one that records action inputs. */
  goldenPathModule?: BackendFeature;
}) {
  const backend = await startTestBackend({
    features: [
      scaffolderPlugin,
      scaffolderModuleGithub,
      scaffolderModuleGitea,
      options?.goldenPathModule ?? scaffolderModuleGoldenPath,
      catalogServiceMock.factory({ entities: [] }),
      scaffolderConfig({
        integrations: {
          github: [{ host: 'github.com' }],
          gitea: [
            { host: LOCAL_GITEA_HOST, baseUrl: `http://${LOCAL_GITEA_HOST}` },
          ],
        },
      }),
    ],
  });

  async function dryRun(
    templateEntity: any,
    values: Record<string, unknown>,
  ): Promise<DryRunResult> {
    const res = await request(backend.server)
      .post('/api/scaffolder/v2/dry-run')
      .send({ template: templateEntity, values, directoryContents: [] });
    const files = new Map<string, Buffer>();
    const executables = new Set<string>();
    for (const file of res.body.directoryContents ?? []) {
      files.set(file.path, Buffer.from(file.base64Content, 'base64'));
      if (file.executable) executables.add(file.path);
    }
    return { status: res.status, body: res.body, files, executables };
  }

  return { dryRun, stop: () => backend.stop() };
}

/** Writes dry-run output to disk for the checks that run on real files. */
export function writeFiles(
  targetDir: string,
  files: Map<string, Buffer>,
  executables: ReadonlySet<string> = new Set(),
) {
  fs.rmSync(targetDir, { recursive: true, force: true });
  for (const [file, content] of files) {
    const target = path.join(targetDir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, {
      mode: executables.has(file) ? 0o755 : 0o644,
    });
  }
}
