import { Cell, CellText, Flex, Text } from '@backstage/ui';
import { ClusterRollouts } from '@internal/plugin-rollouts-common';
import { FullTable, SectionTitle, UsageBar } from './common';

/** Requests/limits, quotas, LimitRange defaults, HPAs and Warning events of one cluster. */
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
  const metrics = cluster.hpas.map(h => ({
    id: `${h.namespace}/${h.name}`,
    ...h,
  }));
  const events = cluster.warningEvents.map((e, i) => ({ id: `${i}`, ...e }));
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
              <CellText title={r.container} description={r.deployment} />
            ),
          },
          {
            id: 'requests',
            label: 'Requests',
            cell: r => (
              <CellText
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
              <CellText
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
            cell: u => <CellText title={u.resource} description={u.quota} />,
          },
          {
            id: 'used',
            label: 'Used / hard',
            cell: u => <CellText title={`${u.used} / ${u.hard}`} />,
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
            cell: e => <CellText title={e.resource} description={e.type} />,
          },
          {
            id: 'defaultRequest',
            label: 'Default request',
            cell: e => <CellText title={e.defaultRequest ?? '—'} />,
          },
          {
            id: 'defaultLimit',
            label: 'Default limit',
            cell: e => <CellText title={e.defaultLimit ?? '—'} />,
          },
          {
            id: 'minmax',
            label: 'Min / max',
            cell: e => <CellText title={`${e.min ?? '—'} / ${e.max ?? '—'}`} />,
          },
        ]}
        rows={limits}
        empty="No LimitRange in these namespaces."
      />

      <SectionTitle>Autoscaling</SectionTitle>
      <FullTable
        columns={[
          {
            id: 'name',
            label: 'HPA',
            isRowHeader: true,
            cell: h => (
              <CellText
                title={h.name}
                description={`${h.target.kind}/${h.target.name}`}
              />
            ),
          },
          {
            id: 'replicas',
            label: 'Current / desired (min–max)',
            cell: h => (
              <CellText
                title={`${h.currentReplicas ?? '?'} / ${
                  h.desiredReplicas ?? '?'
                } (${h.minReplicas}–${h.maxReplicas})`}
                description={h.atMax ? 'at maximum' : undefined}
              />
            ),
          },
          {
            id: 'metrics',
            label: 'Metrics (current / target)',
            cell: h => (
              <CellText
                title={
                  h.metrics
                    .map(
                      m =>
                        `${m.type} ${m.name}${
                          m.container ? ` (${m.container})` : ''
                        }: ${m.current ?? '?'} / ${m.target}`,
                    )
                    .join('; ') || '—'
                }
              />
            ),
          },
        ]}
        rows={metrics}
        empty="No HorizontalPodAutoscaler."
      />

      <SectionTitle>Warning events</SectionTitle>
      <FullTable
        columns={[
          {
            id: 'object',
            label: 'Object',
            isRowHeader: true,
            cell: e => <CellText title={e.object} description={e.lastSeen} />,
          },
          {
            id: 'reason',
            label: 'Reason',
            cell: e => <CellText title={`${e.reason ?? ''} ×${e.count}`} />,
          },
          {
            id: 'message',
            label: 'Message',
            cell: e => <CellText title={e.message ?? ''} />,
          },
        ]}
        rows={events}
        empty="No Warning events."
      />
    </Flex>
  );
}
