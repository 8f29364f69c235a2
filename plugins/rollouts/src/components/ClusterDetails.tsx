import { CompoundEntityRef } from '@backstage/catalog-model';
import { Flex, Tab, TabList, TabPanel, Tabs, Text } from '@backstage/ui';
import { ClusterRollouts } from '@golden-path/plugin-rollouts-common';
import { ReactNode } from 'react';
import { AutoscalingTable } from './AutoscalingTable';
import { BlueGreenPanel } from './BlueGreenPanel';
import { ProbeTable } from './ProbeTable';
import { ResourcesPanel } from './ResourcesPanel';
import { RolloutTable } from './RolloutTable';
import { WarningEventsTable } from './WarningEventsTable';

/** The details views, in tab order; the browser test (e2e-tests/rolloutsTab.ts) opens them by label. */
export const DETAIL_VIEWS = [
  { id: 'deployments', label: 'Deployments' },
  { id: 'pods', label: 'Pods & probes' },
  { id: 'resources', label: 'Resources & quota' },
  { id: 'autoscaling', label: 'Autoscaling' },
  { id: 'blue-green', label: 'Blue-green' },
  { id: 'events', label: 'Events' },
] as const;

export type DetailView = (typeof DETAIL_VIEWS)[number]['id'];

/**
 * How many items the views that may be empty hold, shown on their tab: an
 * empty view needs no click, and a count of events is worth a look.
 */
function counts(cluster: ClusterRollouts): Partial<Record<DetailView, number>> {
  return {
    pods: cluster.deployments.reduce((n, d) => n + d.pods.length, 0),
    autoscaling: cluster.hpas.length,
    'blue-green': cluster.blueGreen.length,
    events: cluster.warningEvents.length,
  };
}

function NoBlueGreen({ slotLabel }: { slotLabel: string }) {
  return (
    <Text as="p" color="secondary">
      No blue-green pair: none of these Services selects its pods by the slot
      label {slotLabel}, so there is no traffic to switch.
    </Text>
  );
}

/**
 * The details of one cluster, one click away from the summary: a tab per
 * view. Tabs (not one long page) keep each table full width and its values
 * whole, and arrow keys move between them.
 */
export function ClusterDetails(props: {
  entity: CompoundEntityRef;
  cluster: ClusterRollouts;
  slotLabel: string;
  onChanged: () => void;
}) {
  const { entity, cluster, slotLabel, onChanged } = props;
  const n = counts(cluster);
  const panels: Record<DetailView, ReactNode> = {
    deployments: (
      <RolloutTable
        entity={entity}
        writes={cluster.writes}
        deployments={cluster.deployments}
        onChanged={onChanged}
      />
    ),
    pods: (
      <Flex direction="column" gap="4">
        {cluster.deployments.map(d => (
          <ProbeTable key={`${d.namespace}/${d.name}`} deployment={d} />
        ))}
      </Flex>
    ),
    resources: <ResourcesPanel cluster={cluster} />,
    autoscaling: <AutoscalingTable hpas={cluster.hpas} />,
    'blue-green':
      cluster.blueGreen.length === 0 ? (
        <NoBlueGreen slotLabel={slotLabel} />
      ) : (
        <Flex direction="column" gap="4">
          {cluster.blueGreen.map(bg => (
            <BlueGreenPanel
              key={`${bg.namespace}/${bg.service}`}
              entity={entity}
              cluster={cluster.cluster}
              writes={cluster.writes}
              service={bg}
              onChanged={onChanged}
            />
          ))}
        </Flex>
      ),
    events: <WarningEventsTable events={cluster.warningEvents} />,
  };
  return (
    <Tabs>
      <TabList aria-label={`Details of cluster ${cluster.cluster}`}>
        {DETAIL_VIEWS.map(v => (
          <Tab key={v.id} id={v.id}>
            {n[v.id] === undefined ? v.label : `${v.label} (${n[v.id]})`}
          </Tab>
        ))}
      </TabList>
      {DETAIL_VIEWS.map(v => (
        <TabPanel key={v.id} id={v.id}>
          <div style={{ paddingTop: 'var(--bui-space-3)' }}>{panels[v.id]}</div>
        </TabPanel>
      ))}
    </Tabs>
  );
}
