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
import { useRollouts } from '../hooks/useRollouts';
import { BlueGreenPanel } from './BlueGreenPanel';
import { errorMessage } from './common';
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
              title={`Cluster ${cluster.cluster} is unreachable`}
              description={cluster.error}
            />
          )}
          {cluster.state === 'syncing' && (
            <Alert
              status="info"
              title={`Loading cluster ${cluster.cluster}…`}
            />
          )}
          {cluster.blueGreen.map(bg => (
            <BlueGreenPanel
              key={`${bg.namespace}/${bg.service}`}
              entity={ref}
              cluster={cluster.cluster}
              service={bg}
              onChanged={onChanged}
            />
          ))}
          {cluster.state !== 'error' && (
            <>
              <RolloutTable
                entity={ref}
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

/** The Rollouts tab of an entity page. */
export function RolloutsContent(props: { pollMs?: number }) {
  const { value, loading, error, refresh, live } = useRollouts(props.pollMs);
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
      <Text variant="body-small" color="secondary">
        {live
          ? 'Live: the page updates when the cluster changes.'
          : 'Signals are not available: refreshing every 30 seconds.'}
        {error && ` Last refresh failed: ${errorMessage(error)}`}
      </Text>
      {value.clusters.length === 0 && (
        <Alert
          status="info"
          title="No cluster configured"
          description="Add clusters under kubernetes.clusterLocatorMethods in app-config."
        />
      )}
      {value.clusters.map(c => (
        <ClusterSection key={c.cluster} cluster={c} onChanged={refresh} />
      ))}
    </Flex>
  );
}
