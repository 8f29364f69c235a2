import { ConfigReader } from '@backstage/config';
import { readRolloutsSettings } from '../../settings';
import { FakeCluster, FakeRegistry } from '../../testUtils/FakeCluster';
import {
  GITOPS_ENTITY_REF,
  gitopsCluster,
  gitopsEntity,
  NEW_DIGEST,
  NEW_REVISION,
  OLD_DIGEST,
  OLD_REVISION,
} from '../../testUtils/gitopsCluster';
import { entitySelection } from '../entitySelection';
import { StatusService } from './StatusService';

function statusOf(cluster: FakeCluster, entityRef = GITOPS_ENTITY_REF) {
  const service = new StatusService(
    new FakeRegistry([cluster]),
    readRolloutsSettings(new ConfigReader({})),
  );
  return service.getStatus(entityRef, entitySelection(gitopsEntity)!)
    .clusters[0];
}

describe('StatusService: GitOps environments', () => {
  it("shows the entity's Kustomizations, by label or by annotation, in promotion order", () => {
    const { gitops } = statusOf(gitopsCluster());
    expect(gitops?.flux).toBe('installed');
    expect(
      gitops?.environments.map(e => [e.name, e.kustomization.name]),
    ).toEqual([
      ['dev', 'shop-dev'],
      ['staging', 'shop-staging'],
      // Registered through the portal: only its annotation names the entity.
      ['prod', 'shop-prod'],
    ]);
  });

  it('shows a failing new revision in dev while the old digest serves', () => {
    const dev = statusOf(gitopsCluster()).gitops!.environments[0];
    expect(dev.flux).toMatchObject({
      state: 'not-ready',
      reason: 'HealthCheckFailed',
    });
    expect(dev.revision).toEqual({
      applied: OLD_REVISION,
      attempted: NEW_REVISION,
      newRevision: 'failing',
    });
    expect(dev.workloads).toEqual([
      {
        namespace: 'shop-dev',
        name: 'shop',
        ready: 1,
        desired: 2,
        containers: [
          {
            name: 'app',
            image: `localhost/shop@${NEW_DIGEST}`,
            digest: NEW_DIGEST,
            running: [OLD_DIGEST, NEW_DIGEST].sort(),
            agreement: 'mismatch',
          },
        ],
      },
    ]);
  });

  it('reads pods through their ReplicaSets, one environment each', () => {
    const [, staging, prod] = statusOf(gitopsCluster()).gitops!.environments;
    for (const env of [staging, prod]) {
      expect(env.workloads.map(w => w.namespace)).toEqual([`shop-${env.name}`]);
      expect(env.workloads[0].containers[0]).toMatchObject({
        running: [OLD_DIGEST],
        agreement: 'match',
      });
    }
  });

  it('says Flux is not installed without listing it among the missing kinds', () => {
    const cluster = new FakeCluster('local');
    cluster.currentHealth = {
      state: 'ok',
      unavailable: [
        { kind: 'kustomizations', state: 'not-installed' },
        { kind: 'events', state: 'forbidden' },
      ],
    };
    const status = statusOf(cluster);
    expect(status.gitops).toEqual({ flux: 'not-installed', environments: [] });
    expect(status.unavailable).toEqual([
      { kind: 'events', state: 'forbidden' },
    ]);
  });

  it('matches the ownership annotation against the entity asked for', () => {
    // The same labels, another entity: the label-selected Kustomizations are
    // found (catalog annotations say what an entity shows), the one whose
    // annotation names shop is not.
    const { gitops } = statusOf(gitopsCluster(), 'component:default/nobody');
    expect(gitops?.environments.map(e => e.kustomization.name)).toEqual([
      'shop-dev',
      'shop-staging',
    ]);
  });
});
