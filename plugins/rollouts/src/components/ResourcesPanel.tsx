import { Cell, Flex, Text } from '@backstage/ui';
import { ClusterRollouts } from '@golden-path/plugin-rollouts-common';
import { FullTable, SectionTitle, TextCell, UsageBar } from './common';

/** Requests/limits of the cluster's containers, its quotas and LimitRange defaults. */
export function ResourcesPanel({ cluster }: { cluster: ClusterRollouts }) {
  const containers = cluster.deployments.flatMap(d =>
    d.resources.map(r => ({
      id: `${d.namespace}/${d.name}/${r.container}`,
      deployment: d.name,
      ...r,
    })),
  );
  const usages = cluster.quotas.flatMap(q =>
    q.usages.map(u => ({
      id: `${q.namespace}/${q.name}/${u.resource}`,
      quota: q.name,
      ...u,
    })),
  );
  const limits = cluster.limitRanges.flatMap(lr =>
    lr.entries.map(e => ({
      id: `${lr.namespace}/${lr.name}/${e.type}/${e.resource}`,
      ...e,
    })),
  );
  const fmt = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—';
  return (
    <Flex direction="column" gap="3">
      <SectionTitle>Requests and limits</SectionTitle>
      <FullTable
        columns={[
          {
            id: 'container',
            label: 'Container',
            isRowHeader: true,
            cell: r => (
              <TextCell title={r.container} description={r.deployment} />
            ),
          },
          {
            id: 'requests',
            label: 'Requests',
            cell: r => (
              <TextCell
                title={fmt(r.requests)}
                description={
                  r.fromLimitRangeDefaults.requests.length
                    ? `from LimitRange: ${r.fromLimitRangeDefaults.requests.join(
                        ', ',
                      )}`
                    : undefined
                }
              />
            ),
          },
          {
            id: 'limits',
            label: 'Limits',
            cell: r => (
              <TextCell
                title={fmt(r.limits)}
                description={
                  r.fromLimitRangeDefaults.limits.length
                    ? `from LimitRange: ${r.fromLimitRangeDefaults.limits.join(
                        ', ',
                      )}`
                    : undefined
                }
              />
            ),
          },
        ]}
        rows={containers}
      />

      <SectionTitle>Quota</SectionTitle>
      <FullTable
        columns={[
          {
            id: 'resource',
            label: 'Resource',
            isRowHeader: true,
            cell: u => <TextCell title={u.resource} description={u.quota} />,
          },
          {
            id: 'used',
            label: 'Used / hard',
            cell: u => <TextCell title={`${u.used} / ${u.hard}`} />,
          },
          {
            id: 'bar',
            label: 'Use',
            cell: u => (
              <Cell>
                <Flex direction="column" gap="1">
                  <UsageBar percent={u.percent} label={`${u.resource} used`} />
                  <Text variant="body-small">
                    {u.percent === undefined ? '—' : `${u.percent}%`}
                  </Text>
                </Flex>
              </Cell>
            ),
          },
        ]}
        rows={usages}
        empty="No ResourceQuota in these namespaces."
      />

      <SectionTitle>LimitRange defaults</SectionTitle>
      <FullTable
        columns={[
          {
            id: 'resource',
            label: 'Resource',
            isRowHeader: true,
            cell: e => <TextCell title={e.resource} description={e.type} />,
          },
          {
            id: 'defaultRequest',
            label: 'Default request',
            cell: e => <TextCell title={e.defaultRequest ?? '—'} />,
          },
          {
            id: 'defaultLimit',
            label: 'Default limit',
            cell: e => <TextCell title={e.defaultLimit ?? '—'} />,
          },
          {
            id: 'minmax',
            label: 'Min / max',
            cell: e => <TextCell title={`${e.min ?? '—'} / ${e.max ?? '—'}`} />,
          },
        ]}
        rows={limits}
        empty="No LimitRange in these namespaces."
      />
    </Flex>
  );
}
