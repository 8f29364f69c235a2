import { getCompoundEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  Alert,
  Badge,
  Card,
  CardBody,
  CardHeader,
  Flex,
  Skeleton,
  Text,
} from '@backstage/ui';
import { ClusterRollouts } from '@internal/plugin-rollouts-common';
import { LiveUpdates, useRollouts } from '../hooks/useRollouts';
import { BlueGreenPanel } from './BlueGreenPanel';
import { errorMessage } from './common';
import { EnvironmentsPanel } from './EnvironmentsPanel';
import { ProbeTable } from './ProbeTable';
import { ResourcesPanel } from './ResourcesPanel';
import { RolloutTable } from './RolloutTable';

function ClusterSection(props: {
  cluster: ClusterRollouts;
  onChanged: () => void;
}) {
  const { cluster, onChanged } = props;
  const { entity } = useEntity();
  const ref = getCompoundEntityRef(entity);
  return (
    <Card>
      <CardHeader>
        <Flex justify="between" align="center">
          <Text as="h2" variant="title-small" weight="bold">
            Cluster {cluster.cluster}
          </Text>
          <Badge>{cluster.state}</Badge>
        </Flex>
      </CardHeader>
      <CardBody>
        <Flex direction="column" gap="4">
          {cluster.state === 'error' && (
            <Alert
              status="danger"
              title={
                cluster.stale
                  ? `Cluster ${
                      cluster.cluster
                    } is unreachable: showing its last known state, from ${new Date(
                      cluster.stale.since,
                    ).toLocaleString()}`
                  : `Cluster ${cluster.cluster} is unreachable`
              }
              description={cluster.error}
            />
          )}
          {cluster.unavailable && cluster.unavailable.length > 0 && (
            <Alert
              status="info"
              title={`Not shown: ${cluster.unavailable
                .map(u => u.kind)
                .join(', ')}`}
              description={cluster.unavailable
                .map(u =>
                  u.state === 'forbidden'
                    ? `${u.kind}: the rollouts plugin may not read them in this cluster (RBAC)`
                    : `${u.kind}: unavailable in this cluster`,
                )
                .join('; ')}
            />
          )}
          {cluster.state === 'syncing' && (
            <Alert
              status="info"
              title={`Loading cluster ${cluster.cluster}…`}
            />
          )}
          <EnvironmentsPanel
            gitops={cluster.gitops}
            sourceLocation={
              entity.metadata.annotations?.['backstage.io/source-location']
            }
          />
          {cluster.blueGreen.map(bg => (
            <BlueGreenPanel
              key={`${bg.namespace}/${bg.service}`}
              entity={ref}
              cluster={cluster.cluster}
              writes={cluster.writes}
              service={bg}
              onChanged={onChanged}
            />
          ))}
          {(cluster.state !== 'error' || cluster.stale) && (
            <>
              <RolloutTable
                entity={ref}
                writes={cluster.writes}
                deployments={cluster.deployments}
                onChanged={onChanged}
              />
              {cluster.deployments.map(d => (
                <ProbeTable key={`${d.namespace}/${d.name}`} deployment={d} />
              ))}
              <ResourcesPanel cluster={cluster} />
            </>
          )}
        </Flex>
      </CardBody>
    </Card>
  );
}

function liveUpdatesText(liveUpdates: LiveUpdates, pollMs: number): string {
  const seconds = pollMs / 1000;
  const every = seconds === 1 ? 'every second' : `every ${seconds} seconds`;
  switch (liveUpdates) {
    case 'live':
      return 'Live: the page updates when the cluster changes.';
    case 'connecting':
      return `Connecting to live updates; refreshing ${every} meanwhile.`;
    case 'lost':
      return `Live updates stopped arriving: refreshing ${every} until they are back.`;
    default:
      return `Live updates are not available in this portal: refreshing ${every}.`;
  }
}

/** The Rollouts tab of an entity page. */
export function RolloutsContent(props: { pollMs?: number }) {
  const { value, loading, error, refresh, liveUpdates, pollMs } = useRollouts(
    props.pollMs,
  );
  if (!value && loading) {
    return <Skeleton width="100%" height={200} />;
  }
  if (!value) {
    return (
      <Alert
        status="danger"
        title="Could not load rollouts"
        description={error ? errorMessage(error) : undefined}
      />
    );
  }
  return (
    <Flex direction="column" gap="4">
      <Text
        variant="body-small"
        color={liveUpdates === 'lost' ? 'warning' : 'secondary'}
      >
        {liveUpdatesText(liveUpdates, pollMs)}
        {error && ` Last refresh failed: ${errorMessage(error)}`}
      </Text>
      {value.clusters.length === 0 && (
        <Alert
          status="info"
          title="No cluster configured"
          description="Add clusters under kubernetes.clusterLocatorMethods in app-config."
        />
      )}
      {value.skippedClusters?.map(c => (
        <Alert
          key={c.name}
          status="info"
          title={`Not shown: ${c.name}`}
          description={c.reason}
        />
      ))}
      {value.clusters.map(c => (
        <ClusterSection key={c.cluster} cluster={c} onChanged={refresh} />
      ))}
    </Flex>
  );
}
