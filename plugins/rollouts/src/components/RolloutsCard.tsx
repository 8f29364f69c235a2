import {
  Alert,
  Card,
  CardBody,
  CardHeader,
  Flex,
  Skeleton,
  Text,
} from '@backstage/ui';
import { summarizeWorkload } from '@golden-path/plugin-rollouts-common';
import { useRollouts } from '../hooks/useRollouts';
import { errorMessage, PhaseBadge } from './common';
import { StateLabel } from './StateLabel';

/** A compact overview for the entity's overview page. */
export function RolloutsCard(props: { pollMs?: number }) {
  const { value, loading, error } = useRollouts(props.pollMs);
  return (
    <Card>
      <CardHeader>
        <Text as="h3" variant="title-x-small" weight="bold">
          Rollouts
        </Text>
      </CardHeader>
      <CardBody>
        {!value && loading && <Skeleton width="100%" height={60} />}
        {!value && error && (
          <Alert
            status="danger"
            title="Could not load rollouts"
            description={errorMessage(error)}
          />
        )}
        {value && (
          <Flex direction="column" gap="2">
            {value.clusters.map(c => (
              <Flex key={c.cluster} direction="column" gap="1">
                {c.state === 'error' && (
                  <Text color="danger">
                    {c.cluster}: unreachable
                    {c.stale ? ', last known state' : ''} ({c.error})
                  </Text>
                )}
                {c.deployments.map(d => (
                  <Flex key={`${d.namespace}/${d.name}`} gap="2" align="center">
                    <Text weight="bold">{d.name}</Text>
                    <StateLabel state={summarizeWorkload(d, c).state} />
                    <PhaseBadge phase={d.status.phase} />
                    <Text>
                      {d.status.available}/{d.status.desired} available
                    </Text>
                    {d.findings.length > 0 && (
                      <Text color="warning">{d.findings.length} findings</Text>
                    )}
                  </Flex>
                ))}
                {c.blueGreen.map(bg => (
                  <Text key={`${bg.namespace}/${bg.service}`}>
                    {bg.service}: live slot{' '}
                    <strong>{bg.liveSlot ?? 'none'}</strong>
                  </Text>
                ))}
              </Flex>
            ))}
          </Flex>
        )}
      </CardBody>
    </Card>
  );
}
