import { WarningEvent } from '@golden-path/plugin-rollouts-common';
import { FullTable, TextCell } from './common';

/** Warning events about the entity's objects, as `kubectl get events --field-selector type=Warning` lists them. */
export function WarningEventsTable({ events }: { events: WarningEvent[] }) {
  return (
    <FullTable
      columns={[
        {
          id: 'object',
          label: 'Object',
          isRowHeader: true,
          cell: e => (
            <TextCell
              title={e.object}
              description={[
                e.namespace,
                e.lastSeen && `last seen ${e.lastSeen}`,
              ]
                .filter(Boolean)
                .join(' · ')}
            />
          ),
        },
        {
          id: 'reason',
          label: 'Reason',
          cell: e => <TextCell title={`${e.reason ?? ''} ×${e.count}`} />,
        },
        {
          id: 'message',
          label: 'Message',
          cell: e => <TextCell title={e.message ?? ''} />,
        },
      ]}
      rows={events.map((e, i) => ({ id: `${i}`, ...e }))}
      empty="No Warning events: Kubernetes reported no problem with these objects recently."
    />
  );
}
