import { getCompoundEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { Alert, Card, CardBody, CardHeader, Flex, Text } from '@backstage/ui';
import {
  ClusterRollouts,
  ClusterState,
  StateTone,
  summarizeCluster,
  WORKLOAD_STATE_DISPLAY,
  WorkloadSummary,
} from '@golden-path/plugin-rollouts-common';
import { ClusterDetails } from './ClusterDetails';
import { EnvironmentsPanel } from './EnvironmentsPanel';
import { ToneLabel } from './StateLabel';
import { WorkloadSummaryTable } from './WorkloadSummaryTable';

const CLUSTER_STATE: Record<ClusterState, { label: string; tone: StateTone }> =
  {
    ok: { label: 'Connected', tone: 'success' },
    syncing: { label: 'Loading', tone: 'info' },
    error: { label: 'Unreachable', tone: 'danger' },
  };

/** "1 degraded · 2 healthy": the cluster's workloads at a glance. */
function stateCounts(rows: WorkloadSummary[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const label = WORKLOAD_STATE_DISPLAY[r.state].label.toLowerCase();
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].map(([label, n]) => `${n} ${label}`).join(' · ');
}

function UnreachableAlert({ cluster }: { cluster: ClusterRollouts }) {
  return (
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
  );
}

function UnavailableKindsAlert({ cluster }: { cluster: ClusterRollouts }) {
  const unavailable = cluster.unavailable ?? [];
  if (unavailable.length === 0) return null;
  return (
    <Alert
      status="info"
      title={`Not shown: ${unavailable.map(u => u.kind).join(', ')}`}
      description={unavailable
        .map(u =>
          u.state === 'forbidden'
            ? `${u.kind}: the rollouts plugin may not read them in this cluster (RBAC)`
            : `${u.kind}: unavailable in this cluster`,
        )
        .join('; ')}
    />
  );
}

/** What to do when the cluster has none of the entity's Deployments. */
function NoWorkloadsAlert({ cluster }: { cluster: string }) {
  return (
    <Alert
      status="info"
      title={`No Deployment of this entity in cluster ${cluster}`}
      description="The tab finds Deployments by the entity's backstage.io/kubernetes-id annotation (the same label on the Deployment) or its backstage.io/kubernetes-label-selector. Check that the Deployments carry that label, in a namespace the cluster lets the plugin read."
    />
  );
}

/**
 * One cluster: its connection state, a summary row per workload, and the
 * details in tabs below.
 */
export function ClusterSection(props: {
  cluster: ClusterRollouts;
  slotLabel: string;
  onChanged: () => void;
}) {
  const { cluster, slotLabel, onChanged } = props;
  const { entity } = useEntity();
  const readable = cluster.state !== 'error' || Boolean(cluster.stale);
  const rows = readable ? summarizeCluster(cluster) : [];
  const { label, tone } = CLUSTER_STATE[cluster.state];
  return (
    <Card>
      <CardHeader>
        <Flex justify="between" align="center" gap="2">
          <Text as="h2" variant="title-small" weight="bold">
            Cluster {cluster.cluster}
          </Text>
          <Flex gap="3" align="center">
            {rows.length > 0 && (
              <Text variant="body-small" color="secondary">
                {stateCounts(rows)}
              </Text>
            )}
            <ToneLabel tone={tone}>{label}</ToneLabel>
          </Flex>
        </Flex>
      </CardHeader>
      <CardBody>
        <Flex direction="column" gap="4">
          {cluster.state === 'error' && <UnreachableAlert cluster={cluster} />}
          <UnavailableKindsAlert cluster={cluster} />
          {cluster.state === 'syncing' && (
            <Alert
              status="info"
              isPending
              title={`Loading cluster ${cluster.cluster}…`}
            />
          )}
          {readable && cluster.state !== 'syncing' && rows.length === 0 && (
            <NoWorkloadsAlert cluster={cluster.cluster} />
          )}
          {rows.length > 0 && <WorkloadSummaryTable rows={rows} />}
          <EnvironmentsPanel
            gitops={cluster.gitops}
            sourceLocation={
              entity.metadata.annotations?.['backstage.io/source-location']
            }
          />
          {/* Without Deployments the details still show a Service's
              blue-green pair (to switch away from a missing slot) and events. */}
          {readable && (
            <ClusterDetails
              entity={getCompoundEntityRef(entity)}
              cluster={cluster}
              slotLabel={slotLabel}
              onChanged={onChanged}
            />
          )}
        </Flex>
      </CardBody>
    </Card>
  );
}
