import { Alert, Flex, Text } from '@backstage/ui';
import { LiveUpdates, useRollouts } from '../hooks/useRollouts';
import { ClusterSection } from './ClusterSection';
import { errorMessage } from './common';
import { LoadingRollouts, NoClusters, RolloutsLoadError } from './LoadStates';

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

function RolloutsBody(props: { pollMs?: number }) {
  const { value, loading, error, refresh, liveUpdates, pollMs } = useRollouts(
    props.pollMs,
  );
  if (!value && loading) {
    return <LoadingRollouts />;
  }
  if (!value) {
    return <RolloutsLoadError error={error} onRetry={refresh} />;
  }
  return (
    <Flex direction="column" gap="4">
      <Text
        variant="body-small"
        weight={liveUpdates === 'lost' ? 'bold' : 'regular'}
        color={liveUpdates === 'lost' ? 'primary' : 'secondary'}
      >
        {liveUpdatesText(liveUpdates, pollMs)}
        {error && ` Last refresh failed: ${errorMessage(error)}`}
      </Text>
      {value.clusters.length === 0 && <NoClusters />}
      {value.skippedClusters?.map(c => (
        <Alert
          key={c.name}
          status="info"
          title={`Not shown: ${c.name}`}
          description={c.reason}
        />
      ))}
      {value.clusters.map(c => (
        <ClusterSection
          key={c.cluster}
          cluster={c}
          slotLabel={value.slotLabel}
          onChanged={refresh}
        />
      ))}
    </Flex>
  );
}

/**
 * The Rollouts tab of an entity page: how fresh it is, then per cluster a
 * summary row per workload and the details in tabs.
 */
export function RolloutsContent(props: { pollMs?: number }) {
  // The browser test scopes its accessibility check to this element.
  return (
    <div data-testid="rollouts-tab">
      <RolloutsBody pollMs={props.pollMs} />
    </div>
  );
}
