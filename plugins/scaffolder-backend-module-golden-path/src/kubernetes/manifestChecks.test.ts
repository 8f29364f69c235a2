import path from 'node:path';
import { fixtureManifests } from '../testUtils/kubeManifests';
import { manifestChecksRunner } from './manifestChecks';

const CHECK_SH = path.resolve(
  __dirname,
  '../../../../tools/manifest-checks/check.sh',
);

/** What `kubectl kustomize` prints for the fixture, namespace applied. */
function rendered(image: string): string {
  const files = fixtureManifests({ name: 'web', namespace: 'shop', image });
  return ['namespace.yaml', 'service.yaml', 'deployment.yaml']
    .map(name => {
      const object = JSON.parse(files[name]);
      if (object.kind !== 'Namespace') object.metadata.namespace = 'shop';
      return JSON.stringify(object);
    })
    .join('\n---\n');
}

describe('manifestChecksRunner (tools/manifest-checks/check.sh)', () => {
  const run = manifestChecksRunner(CHECK_SH);

  it('passes manifests that follow every project rule', async () => {
    await expect(run({ text: rendered('acme/web:1.0.0') })).resolves.toEqual(
      [],
    );
  }, 120_000);

  it("returns the project's findings for manifests that break a rule", async () => {
    await expect(run({ text: rendered('acme/web:latest') })).resolves.toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        name: 'web',
        rule: 'image-tag',
        message: expect.stringContaining(':latest'),
      }),
    ]);
  }, 120_000);

  it('names the config key when the script is not there', async () => {
    await expect(
      manifestChecksRunner('/nowhere/check.sh')({
        text: rendered('acme/web:1.0.0'),
      }),
    ).rejects.toThrow(
      "The project's manifest checks are not at /nowhere/check.sh: set goldenPath.kubernetes.manifestChecksScript to tools/manifest-checks/check.sh of the portal's repository, or give the validate step policyChecks: false.",
    );
  });
});
