/*
 * Node drains (kubectl drain, cluster upgrades, the cluster autoscaler) evict pods through
 * the Eviction API, which honours PodDisruptionBudgets. Every template ships one for each
 * Deployment that runs 2+ replicas, or whose replica count is a form field: maxUnavailable
 * 1, which keeps n-1 of n serving and never blocks a drain, even at 1 replica. The
 * single-replica Deployments with state of their own get none (their manifests say why).
 * tools/manifest-checks checks the rendered repositories with the same rules
 * (pod-disruption-budget, pdb-allows-disruption); this pins what each template promises.
 */
import path from 'node:path';
import yaml from 'yaml';
import { DISRUPTION_BUDGETS } from './deliverables';
import { discoverTemplateCases, startScaffolder } from './scaffolderDryRun';

const cases = discoverTemplateCases();

jest.setTimeout(120_000);

let scaffolder: Awaited<ReturnType<typeof startScaffolder>>;
beforeAll(async () => {
  scaffolder = await startScaffolder();
});
afterAll(async () => {
  await scaffolder?.stop();
});

interface Manifest {
  file: string;
  obj: any;
}

async function render(
  template: string,
  example: string,
  overrides: Record<string, unknown> = {},
): Promise<{ files: Map<string, Buffer>; manifests: Manifest[] }> {
  const testCase = cases.find(
    c => c.template === template && c.example === example,
  )!;
  const result = await scaffolder.dryRun(testCase.templateEntity, {
    ...testCase.values,
    ...overrides,
  });
  expect(result.status).toBe(200);
  const manifests = [...result.files]
    .filter(([file]) => /^k8s\/.+\.ya?ml$/.test(file))
    .filter(([file]) => path.basename(file) !== 'kustomization.yaml')
    .flatMap(([file, content]) =>
      yaml
        .parseAllDocuments(content.toString('utf8'))
        .map(doc => doc.toJS())
        .filter(Boolean)
        .map(obj => ({ file, obj })),
    );
  return { files: result.files, manifests };
}

/** The budgets use matchLabels only; anything else must be handled here first. */
function selects(pdb: any, podLabels: Record<string, string>): boolean {
  const selector = pdb.spec.selector;
  expect(Object.keys(selector)).toEqual(['matchLabels']);
  return Object.entries(selector.matchLabels).every(
    ([key, value]) => podLabels[key] === value,
  );
}

it('names the budgets of every template', () => {
  expect(Object.keys(DISRUPTION_BUDGETS).sort()).toEqual(
    [...new Set(cases.map(c => c.template))].sort(),
  );
});

describe.each(cases.map(c => [c.template, c.example] as const))(
  '%s / %s',
  (template, example) => {
    it('ships a PodDisruptionBudget (maxUnavailable 1, in the kustomization) for every Deployment but the stateful single replicas', async () => {
      const { files, manifests } = await render(template, example);
      const expected = DISRUPTION_BUDGETS[template];
      const kustomization = yaml.parse(
        files.get('k8s/kustomization.yaml')!.toString('utf8'),
      );
      for (const file of expected.files) {
        expect(files.has(file)).toBe(true);
        expect(kustomization.resources).toContain(path.basename(file));
      }
      const budgets = manifests.filter(
        m => m.obj.kind === 'PodDisruptionBudget',
      );
      expect([...new Set(budgets.map(b => b.file))].sort()).toEqual(
        [...expected.files].sort(),
      );
      const name = cases.find(
        c => c.template === template && c.example === example,
      )!.values.name;
      for (const { obj } of budgets) {
        expect(obj.apiVersion).toBe('policy/v1');
        // Never blocks a drain, keeps n-1 of n: no minAvailable.
        expect(obj.spec.maxUnavailable).toBe(1);
        expect(obj.spec.minAvailable).toBeUndefined();
        expect(obj.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
        // Labelled like every other object: the portal's Kubernetes tab finds it.
        expect(obj.metadata.labels).toMatchObject({
          'backstage.io/kubernetes-id': name,
          'app.kubernetes.io/part-of': name,
          'app.kubernetes.io/managed-by': 'kustomize',
        });
      }
      const deployments = manifests.filter(m => m.obj.kind === 'Deployment');
      expect(deployments.length).toBeGreaterThan(0);
      // One budget per Deployment; none (and one replica) where the template says so.
      const coverage = deployments.map(({ file, obj }) => ({
        file,
        replicas: obj.spec.replicas,
        budgets: budgets.filter(b =>
          selects(b.obj, obj.spec.template.metadata.labels),
        ).length,
      }));
      expect(coverage).toEqual(
        coverage.map(({ file, replicas }) =>
          expected.noBudget.includes(file)
            ? { file, replicas: 1, budgets: 0 }
            : { file, replicas, budgets: 1 },
        ),
      );
      // Each budget protects exactly one Deployment's pods.
      for (const { obj } of budgets) {
        expect(
          deployments.filter(d =>
            selects(obj, d.obj.spec.template.metadata.labels),
          ),
        ).toHaveLength(1);
      }
    });
  },
);

describe('replica counts chosen on the Create page', () => {
  it.each([
    ['fastapi-static-web', 'replicas', 'k8s/deployment.yaml', 'k8s/pdb.yaml'],
    [
      'fastapi-multi-tier',
      'frontendReplicas',
      'k8s/fastapi-frontend-deployment.yaml',
      'k8s/frontend-pdb.yaml',
    ],
  ])(
    '%s: %s = 1 or 10 keeps the same budget, which never blocks a drain of a single replica',
    async (template, field, deploymentFile, budgetFile) => {
      for (const replicas of [1, 10]) {
        const { manifests } = await render(template, 'typical', {
          [field]: replicas,
        });
        const deployment = manifests.find(m => m.file === deploymentFile)!.obj;
        const budget = manifests.find(m => m.file === budgetFile)!.obj;
        expect(deployment.spec.replicas).toBe(replicas);
        expect(selects(budget, deployment.spec.template.metadata.labels)).toBe(
          true,
        );
        // maxUnavailable 1: with 1 replica the one pod may be evicted (minAvailable 1
        // would refuse it forever); with 10, 9 keep serving.
        expect(budget.spec).toMatchObject({ maxUnavailable: 1 });
        expect(budget.spec.minAvailable).toBeUndefined();
      }
    },
  );
});
