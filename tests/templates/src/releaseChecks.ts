import yaml from 'yaml';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const DIGEST = /@sha256:[0-9a-f]{64}$/;

function text(files: Map<string, Buffer>, file: string): string | undefined {
  return files.get(file)?.toString('utf8');
}

function documents(content: string): any[] {
  return yaml
    .parseAllDocuments(content)
    .map(doc => doc.toJS())
    .filter(Boolean);
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map(v => v.split('.').map(Number));
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/**
 * Why a generated repository's `kubectl apply -k k8s/` would not run the images its CI
 * publishes: `VERSION` is the tag the workflow's image job pushes (besides sha-<commit>),
 * and every image the workflow builds must be deployed by k8s/ with exactly that tag (or
 * pinned by digest). A blue-green repository (the image job has a `slot` matrix) runs one
 * image at two versions: CI publishes each slot's X.Y.Z (read from its Deployment), and
 * VERSION must be the newest of them. Empty when they agree.
 *
 * A repository on the portal's local Git server (IMAGE_REGISTRY `localhost`) has no image
 * job: nothing publishes its images, they are built where they run under the names k8s/
 * deploys, so the same rules hold for k8s/ and VERSION, and an image job is a problem.
 */
export function imageTagProblems(files: Map<string, Buffer>): string[] {
  const problems: string[] = [];
  const version = text(files, 'VERSION')?.trim() ?? '';
  if (!SEMVER.test(version)) {
    return [`VERSION must be X.Y.Z, got '${version}'`];
  }
  const workflowText = text(files, '.github/workflows/ci.yaml');
  if (!workflowText) return ['no .github/workflows/ci.yaml'];
  const workflow = yaml.parse(workflowText);
  const registry: string = workflow.env?.IMAGE_REGISTRY ?? '';
  const built: string[] = String(workflow.env?.SERVICE_IMAGES ?? '')
    .split(' ')
    .filter(Boolean);
  const local = registry === 'localhost';
  if (!(registry.startsWith('ghcr.io/') || local) || built.length === 0) {
    problems.push('the workflow names no IMAGE_REGISTRY or SERVICE_IMAGES');
  }

  const image = workflow.jobs?.image;
  if (local) {
    if (image) {
      problems.push(
        'the workflow of a repository on the local Git server has an image job, but there is no registry to push to',
      );
    }
    return [
      ...problems,
      ...deployedTagProblems(
        files,
        registry,
        built,
        version,
        slotsInK8s(files),
      ),
    ];
  }

  // What CI pushes: sha-<commit> and the version read from the VERSION file, nothing else.
  const steps: any[] = image?.steps ?? [];
  const slots: string[] = image?.strategy?.matrix?.slot ?? [];
  const release = steps.find(step => step.id === 'release');
  if (!/<\s*VERSION\b/.test(release?.run ?? '')) {
    problems.push('the image job does not read its version from VERSION');
  }
  const meta = steps.find(step => step.id === 'meta');
  const tagLines = String(meta?.with?.tags ?? '')
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean);
  const expectedTags = [
    slots.length > 0
      ? 'type=sha,format=long,suffix=-${{ steps.release.outputs.version }}'
      : 'type=sha,format=long',
    "type=raw,value=${{ steps.release.outputs.version }},enable=${{ steps.release.outputs.state == 'new' }}",
  ];
  if (JSON.stringify(tagLines) !== JSON.stringify(expectedTags)) {
    problems.push(
      `the image job tags ${JSON.stringify(
        tagLines,
      )}, expected ${JSON.stringify(expectedTags)}`,
    );
  }
  // What the job tells people it pushed must be the commit tag it pushed: sha-<commit>,
  // or sha-<commit>-<version> when one commit builds two versions (blue-green).
  if (!/echo "commit_tag=sha-\$COMMIT"/.test(release?.run ?? '')) {
    problems.push('the image job does not record its commit tag (commit_tag)');
  }
  for (const step of steps) {
    if (/sha-\$GITHUB_SHA/.test(String(step.run ?? ''))) {
      problems.push(
        `the image job's step "${
          step.name ?? step.id
        }" names sha-$GITHUB_SHA, not the commit tag it pushed (steps.release.outputs.commit_tag)`,
      );
    }
  }
  if (meta?.with?.flavor !== 'latest=false') {
    problems.push(
      'the image job may tag latest (flavor latest=false is missing)',
    );
  }
  const matrix = image?.strategy?.matrix?.service ?? [];
  const matrixImages = matrix.map((service: any) => service.image).sort();
  if (JSON.stringify(matrixImages) !== JSON.stringify([...built].sort())) {
    problems.push(
      `the image job builds ${matrixImages.join(
        ', ',
      )}, SERVICE_IMAGES says ${built.join(', ')}`,
    );
  }

  return [
    ...problems,
    ...deployedTagProblems(files, registry, built, version, slots),
  ];
}

/** Blue-green slots (`app.kubernetes.io/slot` on the pod templates of k8s/). */
function slotsInK8s(files: Map<string, Buffer>): string[] {
  const slots = new Set<string>();
  for (const [file, content] of files) {
    if (!/^k8s\/[^/]+\.ya?ml$/.test(file)) continue;
    for (const doc of documents(content.toString('utf8'))) {
      const slot =
        doc?.spec?.template?.metadata?.labels?.['app.kubernetes.io/slot'];
      if (slot) slots.add(String(slot));
    }
  }
  return [...slots].sort();
}

/**
 * What k8s/ deploys of each image the repository builds (`registry/name`), with the
 * kustomization's overrides applied, against VERSION (and the slot versions of a
 * blue-green repository).
 */
function deployedTagProblems(
  files: Map<string, Buffer>,
  registry: string,
  built: string[],
  version: string,
  slots: string[],
): string[] {
  const problems: string[] = [];
  const kustomization = yaml.parse(
    text(files, 'k8s/kustomization.yaml') ?? '{}',
  );
  const overrides = new Map<string, any>(
    (kustomization?.images ?? []).map((entry: any) => [entry.name, entry]),
  );
  const deployed = new Map<string, string[]>();
  for (const [file, content] of files) {
    if (
      !/^k8s\/[^/]+\.ya?ml$/.test(file) ||
      file.endsWith('kustomization.yaml')
    ) {
      continue;
    }
    for (const doc of documents(content.toString('utf8'))) {
      const pod = doc?.spec?.template?.spec ?? {};
      for (const container of [
        ...(pod.containers ?? []),
        ...(pod.initContainers ?? []),
      ]) {
        const ref: string = container.image;
        const withoutDigest = ref.split('@')[0];
        const colon = withoutDigest.lastIndexOf(':');
        const name = colon > 0 ? withoutDigest.slice(0, colon) : withoutDigest;
        const override = overrides.get(name) ?? {};
        const effective =
          override.digest !== undefined || DIGEST.test(ref)
            ? 'digest'
            : String(override.newTag ?? withoutDigest.slice(colon + 1));
        deployed.set(name, [...(deployed.get(name) ?? []), effective]);
      }
    }
  }
  for (const name of built) {
    const tags = deployed.get(`${registry}/${name}`) ?? [];
    if (tags.length === 0) {
      problems.push(
        `k8s/ runs no container of ${registry}/${name}, which CI builds`,
      );
    }
    if (slots.length > 0) {
      const bad = tags.filter(t => !SEMVER.test(t));
      for (const tag of bad) {
        problems.push(
          `k8s/ deploys ${registry}/${name}:${tag}, CI publishes only X.Y.Z slot versions`,
        );
      }
      const newest = tags
        .filter(t => SEMVER.test(t))
        .sort(compareVersions)
        .at(-1);
      if (tags.length !== slots.length) {
        problems.push(
          `k8s/ runs ${
            tags.length
          } containers of ${registry}/${name}, one per slot (${slots.join(
            ', ',
          )}) expected`,
        );
      }
      if (newest !== undefined && newest !== version) {
        problems.push(
          `VERSION is ${version}, CI publishes ${version} (VERSION) as the newest, but the newest slot runs ${newest}`,
        );
      }
      continue;
    }
    for (const tag of tags.filter(t => t !== 'digest' && t !== version)) {
      problems.push(
        `k8s/ deploys ${registry}/${name}:${tag}, CI publishes ${version} (VERSION)`,
      );
    }
  }
  return problems;
}

/**
 * The inputs the scaffolder would pass to an action, from a dry-run's log (it logs them,
 * after a level prefix, for every step, including the ones it skips in a dry-run).
 */
export function dryRunInputs(body: any, actionId: string): any[] {
  const marker = `Running ${actionId} in dry-run mode with inputs (secrets redacted): `;
  return (body?.log ?? [])
    .map((entry: any) => String(entry?.body?.message ?? ''))
    .filter((message: string) => message.includes(marker))
    .map((message: string) =>
      JSON.parse(message.slice(message.indexOf(marker) + marker.length)),
    );
}
