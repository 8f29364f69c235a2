import { Cell, Flex, Text } from '@backstage/ui';
import {
  RESTARTS_AT_RISK,
  WorkloadSlot,
  WorkloadSummary,
} from '@golden-path/plugin-rollouts-common';
import { scaleDownText } from './blueGreenText';
import { FullTable, TextCell, UsageBar } from './common';
import { StateLabel } from './StateLabel';

function slotText(slot: WorkloadSlot): string {
  if (slot.live) return `${slot.service}: ${slot.slot}, live`;
  const scaleDown = scaleDownText(slot.scaleDown);
  return `${slot.service}: ${slot.slot}, idle${
    scaleDown ? `, ${scaleDown}` : ''
  }`;
}

/** Every reason, worst first: the first (the state's own) in bold. */
function ReasonsCell({ row }: { row: WorkloadSummary }) {
  const [first, ...rest] = row.signals;
  return (
    <Cell>
      <Flex direction="column" gap="1">
        <Text as="p" weight="bold" style={{ overflowWrap: 'anywhere' }}>
          {first.text}
        </Text>
        {rest.length > 0 && (
          <ul
            aria-label={`More about ${row.name}`}
            style={{ margin: 0, paddingLeft: '1.2em' }}
          >
            {rest.map(s => (
              <li key={s.text}>
                <Text variant="body-small" style={{ overflowWrap: 'anywhere' }}>
                  {s.text}
                </Text>
              </li>
            ))}
          </ul>
        )}
      </Flex>
    </Cell>
  );
}

function QuotaCell({ row }: { row: WorkloadSummary }) {
  if (!row.quota) return <TextCell title="no quota" />;
  const q = row.quota;
  return (
    <Cell>
      <Flex direction="column" gap="1">
        <UsageBar
          percent={q.percent}
          label={`Most used quota of ${row.name}: ${q.resource}`}
        />
        <Text
          as="p"
          variant="body-small"
          weight={q.pressure ? 'bold' : 'regular'}
          color={q.pressure ? 'primary' : 'secondary'}
          style={{ overflowWrap: 'anywhere' }}
        >
          {q.resource} {q.percent}% ({q.used} of {q.hard}, {q.quota})
        </Text>
      </Flex>
    </Cell>
  );
}

/**
 * One row per workload, worst first: its state in colour with every reason,
 * ready over desired replicas, restarts, the most used quota and its
 * blue-green slot. The details are in the tabs below.
 */
export function WorkloadSummaryTable({ rows }: { rows: WorkloadSummary[] }) {
  return (
    <FullTable
      columns={[
        {
          id: 'name',
          label: 'Workload',
          isRowHeader: true,
          cell: r => <TextCell title={r.name} description={r.namespace} />,
        },
        {
          id: 'state',
          label: 'State',
          cell: r => (
            <Cell>
              <StateLabel state={r.state} />
            </Cell>
          ),
        },
        {
          id: 'reason',
          label: 'Why',
          cell: r => <ReasonsCell row={r} />,
        },
        {
          id: 'ready',
          label: 'Ready / desired',
          cell: r => (
            <TextCell
              title={`${r.ready} / ${r.desired}`}
              description={
                r.hpa &&
                `HPA ${r.hpa.name}, max ${r.hpa.maxReplicas}${
                  r.hpa.atMax ? ' (reached)' : ''
                }`
              }
            />
          ),
        },
        {
          id: 'restarts',
          label: 'Restarts',
          cell: r => (
            <Cell>
              <Text
                weight={r.restarts >= RESTARTS_AT_RISK ? 'bold' : 'regular'}
              >
                {r.restarts}
              </Text>
            </Cell>
          ),
        },
        {
          id: 'quota',
          label: 'Quota',
          cell: r => <QuotaCell row={r} />,
        },
        {
          id: 'slot',
          label: 'Blue-green slot',
          cell: r => (
            <TextCell
              title={r.slots.map(slotText).join('; ') || 'not blue-green'}
            />
          ),
        },
      ]}
      rows={rows}
      empty="No Deployments carry this entity's labels in this cluster."
    />
  );
}
