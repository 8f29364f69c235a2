/*
 * The repositories the software templates generate (the `templates` stage renders them
 * through the scaffolder into artifacts/templates/<template>/<example>), and the tools
 * that run them on the local cluster: platform/local-repo.sh builds and imports their
 * images and renders their overlays/local.
 */
import {
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
} from '@kubernetes/client-node';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './clusterControl';
import { Clients } from './kube';

export const TEMPLATE_OUTPUT_DIR =
  process.env.TEMPLATE_OUTPUT_DIR ??
  path.join(repoRoot, 'artifacts', 'templates');
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const LOCAL_REPO = path.join(repoRoot, 'platform', 'local-repo.sh');

/** `make test` sets it: a missing generated repository fails the suite, never skips it. */
export const generatedReposRequired = Boolean(
  process.env.REQUIRE_GENERATED_TEMPLATES,
);

/** The software templates: the folders of templates/ with a template.yaml. */
const TEMPLATES_DIR = path.join(repoRoot, 'templates');

/** A generated repository: it has k8s/kustomization.yaml. */
function isRepo(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'k8s', 'kustomization.yaml'));
}

/** One generated repository per template: its "typical" example. */
function generatedRepos(): { template: string; dir: string }[] {
  if (!fs.existsSync(TEMPLATE_OUTPUT_DIR)) return [];
  return fs
    .readdirSync(TEMPLATE_OUTPUT_DIR)
    .map(template => ({
      template,
      dir: path.join(TEMPLATE_OUTPUT_DIR, template, 'typical'),
    }))
    .filter(({ dir }) => isRepo(dir));
}

/**
 * The repositories to run: one per template (its "typical" example). When
 * generatedReposRequired, throws unless every template of templates/ has one: a
 * template the templates stage did not render must fail the run, not drop out of it.
 */
export function requiredGeneratedRepos(): { template: string; dir: string }[] {
  const repos = generatedRepos();
  if (!generatedReposRequired) return repos;
  const rendered = new Set(repos.map(r => r.template));
  const missing = fs
    .readdirSync(TEMPLATES_DIR)
    .filter(t => fs.existsSync(path.join(TEMPLATES_DIR, t, 'template.yaml')))
    .filter(t => !rendered.has(t));
  if (missing.length > 0) {
    const templates = missing.join(', ');
    throw new Error(
      `No generated repository for ${templates} in ${TEMPLATE_OUTPUT_DIR}: run scripts/test-templates.sh first`,
    );
  }
  return repos;
}

/**
 * The folder of one template's example, or undefined when it was not rendered; throws
 * when it is missing and generatedReposRequired.
 */
export function generatedRepo(
  template: string,
  example = 'typical',
): string | undefined {
  const dir = path.join(TEMPLATE_OUTPUT_DIR, template, example);
  if (isRepo(dir)) return dir;
  if (generatedReposRequired) {
    throw new Error(
      `No generated repository ${template}/${example} in ${TEMPLATE_OUTPUT_DIR}: run ` +
        'scripts/test-templates.sh first (or render it: TEMPLATE_OUTPUT_DIR=<dir> CI=true ' +
        `yarn --cwd tests/templates backstage-cli package test -t ${template})`,
    );
  }
  return undefined;
}

/** Runs a tool with KUBECTL in its environment; its stderr goes to ours; throws on failure. */
export function run(command: string, args: string[]): string {
  return execFileSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KUBECTL },
  });
}

/** overlays/local as the local cluster runs it (platform/local-repo.sh render), as YAML. */
export function renderLocal(dir: string): string {
  return run('bash', [LOCAL_REPO, 'render', dir]);
}

/** run() without blocking the event loop: other tests' checks go on meanwhile. */
export function runAsync(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, KUBECTL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', status =>
      status === 0
        ? resolve(stdout)
        : reject(
            new Error(`${command} ${args.join(' ')} exited with ${status}`),
          ),
    );
  });
}

/**
 * Builds the repository's images and imports them into the nodes; their references. Does
 * not block the event loop: other tests' checks go on meanwhile.
 */
export async function importImages(dir: string): Promise<string[]> {
  return (await runAsync('bash', [LOCAL_REPO, 'images', dir]))
    .trim()
    .split('\n');
}

export function parseManifests(yaml: string): any[] {
  return loadAllYaml(yaml).filter(Boolean) as any[];
}

/** The images the manifests' Deployments run. */
export function images(objects: any[]): string[] {
  return objects
    .filter(o => o.kind === 'Deployment')
    .flatMap(d => d.spec.template.spec.containers.map((c: any) => c.image));
}

/** Server-side apply, Namespaces first as kubectl does. */
export async function applyServerSide(
  c: Clients,
  objects: any[],
  prepare: (obj: any) => any = obj => obj,
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(c.kc);
  const ordered = [
    ...objects.filter(o => o.kind === 'Namespace'),
    ...objects.filter(o => o.kind !== 'Namespace'),
  ];
  for (const obj of ordered) {
    await api.patch(
      prepare(obj),
      undefined,
      undefined,
      'golden-path-template-tests',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

/** What a person would look at when a rollout hangs: pods, events, last log lines. */
export function diagnose(namespaces: string[]): string {
  const out: string[] = [];
  const tryRun = (args: string[]) => {
    try {
      out.push(`$ kubectl ${args.join(' ')}`, run(KUBECTL, args));
    } catch (e) {
      out.push(String((e as Error).message));
    }
  };
  for (const ns of namespaces) {
    tryRun(['-n', ns, 'get', 'pods', '-o', 'wide']);
    tryRun(['-n', ns, 'get', 'events', '--sort-by=.lastTimestamp']);
    tryRun([
      '-n',
      ns,
      'logs',
      '-l',
      'app.kubernetes.io/name',
      '--all-containers',
      '--prefix',
      '--tail=15',
    ]);
  }
  return out.join('\n');
}
