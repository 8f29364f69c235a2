import { HpaSummary } from '@golden-path/plugin-rollouts-common';
import { FullTable, TextCell } from './common';

function metricsText(h: HpaSummary): string {
  return (
    h.metrics
      .map(
        m =>
          `${m.type} ${m.name}${m.container ? ` (${m.container})` : ''}: ${
            m.current ?? '?'
          } / ${m.target}`,
      )
      .join('; ') || '—'
  );
}

/**
 * Conditions worth reading: the ones that are not fine (`False`), and
 * `ScalingLimited`, which is `True` exactly when the HPA hits min or max.
 */
function conditionsText(h: HpaSummary): string | undefined {
  const notable = h.conditions.filter(
    c =>
      c.status === 'False' ||
      (c.type === 'ScalingLimited' && c.status === 'True'),
  );
  return (
    notable
      .map(
        c =>
          `${c.type} ${c.status}${c.reason ? ` (${c.reason})` : ''}${
            c.message ? `: ${c.message}` : ''
          }`,
      )
      .join('; ') || undefined
  );
}

/** The cluster's HorizontalPodAutoscalers: replicas against their bounds, metrics against targets. */
export function AutoscalingTable({ hpas }: { hpas: HpaSummary[] }) {
  return (
    <FullTable
      columns={[
        {
          id: 'name',
          label: 'HPA',
          isRowHeader: true,
          cell: h => (
            <TextCell
              title={h.name}
              description={`${h.namespace} · scales ${h.target.kind}/${h.target.name}`}
            />
          ),
        },
        {
          id: 'replicas',
          label: 'Current / desired (min–max)',
          cell: h => (
            <TextCell
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
            <TextCell title={metricsText(h)} description={conditionsText(h)} />
          ),
        },
      ]}
      rows={hpas.map(h => ({ id: `${h.namespace}/${h.name}`, ...h }))}
      empty="No HorizontalPodAutoscaler scales these Deployments: their replica counts are fixed."
    />
  );
}
