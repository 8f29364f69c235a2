/*
 * The repositories the software templates generate (rendered through the scaffolder by
 * the `templates` stage into artifacts/templates) against a real API server: their
 * kustomization is built with kubectl, server-side applied as is (namespaces with Pod
 * Security "restricted", quotas, PVCs) and every Deployment must become available.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
} from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './clusterControl';
import {
  clients,
  col,
  rolloutSucceeded,
  uniqueName,
  waitForObject,
  workloadOnKwokNodes,
} from './kube';

const OUTPUT_DIR =
  process.env.TEMPLATE_OUTPUT_DIR ??
  path.join(repoRoot, 'artifacts', 'templates');
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** One generated repository per template: its "typical" example. */
function generatedRepos(): { template: string; dir: string }[] {
  if (!fs.existsSync(OUTPUT_DIR)) return [];
  return fs
    .readdirSync(OUTPUT_DIR)
    .map(template => ({
      template,
      dir: path.join(OUTPUT_DIR, template, 'typical'),
    }))
    .filter(({ dir }) =>
      fs.existsSync(path.join(dir, 'k8s', 'kustomization.yaml')),
    );
}

const repos = generatedRepos();
if (repos.length === 0 && process.env.REQUIRE_GENERATED_TEMPLATES) {
  throw new Error(
    `No generated repositories in ${OUTPUT_DIR}: run scripts/test-templates.sh first`,
  );
}
const describeIfRendered = repos.length > 0 ? describe : describe.skip;

describeIfRendered('generated repositories on a real API server', () => {
  const c = clients();
  const api = KubernetesObjectApi.makeApiClient(c.kc);
  const namespaces = new Set<string>();
  const volumes: string[] = [];

  afterAll(async () => {
    for (const ns of namespaces) {
      await c.core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    for (const name of volumes) {
      await c.core.deletePersistentVolume({ name }).catch(() => undefined);
    }
  });

  it.each(repos.map(r => [r.template, r.dir] as const))(
    '%s: kubectl apply -k k8s/ is accepted and every Deployment becomes available',
    async (_template, dir) => {
      const rendered = execFileSync(
        KUBECTL,
        ['kustomize', path.join(dir, 'k8s')],
        {
          encoding: 'utf8',
        },
      );
      const objects = loadAllYaml(rendered).filter(Boolean) as any[];
      expect(objects.length).toBeGreaterThan(0);

      // The test cluster has no storage provisioner: a PersistentVolume per claim
      // stands in for the one a real cluster would provision.
      for (const claim of objects.filter(
        o => o.kind === 'PersistentVolumeClaim',
      )) {
        const name = uniqueName('pv');
        volumes.push(name);
        await c.core.createPersistentVolume({
          body: {
            metadata: { name },
            spec: {
              capacity: { storage: claim.spec.resources.requests.storage },
              accessModes: claim.spec.accessModes,
              storageClassName: claim.spec.storageClassName ?? '',
              hostPath: { path: `/tmp/${name}` },
              claimRef: {
                namespace: claim.metadata.namespace,
                name: claim.metadata.name,
              },
            },
          },
        });
      }

      // Namespaces first, as kubectl does.
      const ordered = [
        ...objects.filter(o => o.kind === 'Namespace'),
        ...objects.filter(o => o.kind !== 'Namespace'),
      ];
      for (const obj of ordered) {
        if (obj.kind === 'Namespace') namespaces.add(obj.metadata.name);
        // Their images are not built here: the pods run on fake (KWOK) nodes.
        await api.patch(
          workloadOnKwokNodes(obj),
          undefined,
          undefined,
          'golden-path-template-tests',
          true,
          PatchStrategy.ServerSideApply,
        );
      }

      const deployments = objects.filter(o => o.kind === 'Deployment');
      expect(deployments.length).toBeGreaterThan(0);
      for (const d of deployments) {
        const done = await waitForObject(
          col.deployments(d.metadata.namespace),
          d.metadata.name,
          rolloutSucceeded,
          120_000,
          `Deployment ${d.metadata.namespace}/${d.metadata.name} to become available`,
        );
        expect(done.status.availableReplicas).toBe(d.spec.replicas ?? 1);
      }
    },
  );
});
