import {
  CompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardHeader,
  Flex,
  Text,
} from '@backstage/ui';
import {
  BlueGreenService,
  ClusterWriteAccess,
  rolloutsTrafficSwitchPermission,
  SwitchTrafficResponse,
} from '@golden-path/plugin-rollouts-common';
import { ReactNode, useState } from 'react';
import {
  previewText,
  scaleDownText,
  switchResultDetails,
} from './blueGreenText';
import { FullTable, TextCell } from './common';
import { PendingSwitch, SwitchDialog } from './SwitchDialog';

/** The pair at a glance: a description list, so each value has its name. */
function PairSummary({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl
      style={{
        display: 'grid',
        gridTemplateColumns: 'max-content auto',
        columnGap: '1em',
        rowGap: '0.25em',
        margin: 0,
      }}
    >
      {items.map(([term, value]) => (
        <div key={term} style={{ display: 'contents' }}>
          <dt>
            <Text color="secondary">{term}</Text>
          </dt>
          <dd style={{ margin: 0 }}>
            <Text weight="bold">{value}</Text>
          </dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * One blue-green Service: which slot is live and which idle, its preview
 * Service, what each slot runs and when an idle one scales down, and (for
 * users allowed to) Switch / Rollback behind a confirmation that shows the
 * pre-switch checks. Switching works also when the Service selects a slot
 * with no Deployment (an outage), to recover from it.
 */
export function BlueGreenPanel(props: {
  entity: CompoundEntityRef;
  cluster: string;
  writes: ClusterWriteAccess;
  service: BlueGreenService;
  onChanged: () => void;
}) {
  const { entity, cluster, writes, service, onChanged } = props;
  const { allowed, loading: permissionLoading } = usePermission({
    permission: rolloutsTrafficSwitchPermission,
    resourceRef: stringifyEntityRef(entity),
  });
  const [pending, setPending] = useState<PendingSwitch | undefined>();
  const [result, setResult] = useState<SwitchTrafficResponse | undefined>();
  const [error, setError] = useState<string | undefined>();

  const live = service.liveSlot;
  const rollbackTarget =
    service.previousSlot && service.previousSlot !== live
      ? service.previousSlot
      : undefined;
  const open = (next: PendingSwitch) => {
    setError(undefined);
    setResult(undefined);
    setPending(next);
  };

  const rows = service.slots.map(s => ({ id: s.slot, ...s }));
  const summary: [string, ReactNode][] = [
    ['Live slot', live ?? `none (${service.selectorSlot})`],
    ['Idle slot', service.idleSlot ?? 'none'],
    [
      'Preview Service',
      service.preview ? previewText(service.preview) : 'none',
    ],
    ['Rollback to', rollbackTarget ?? 'nothing recorded'],
  ];
  if (service.trafficSlots.length > 0) {
    summary.push(['Endpoints serve', service.trafficSlots.join(', ')]);
  }
  return (
    <Card>
      <CardHeader>
        <Text as="h3" variant="title-x-small" weight="bold">
          Blue-green: {service.namespace}/{service.service}
        </Text>
      </CardHeader>
      <CardBody>
        <Flex direction="column" gap="3">
          <PairSummary items={summary} />
          {service.problems.map(p => (
            <Alert key={p} status="warning" title={p} />
          ))}
          {service.preview?.problems.map(p => (
            <Alert key={p} status="warning" title={p} />
          ))}
          <FullTable
            columns={[
              {
                id: 'slot',
                label: 'Slot',
                isRowHeader: true,
                cell: s => (
                  <TextCell
                    title={s.slot}
                    description={[
                      s.live ? 'live' : 'idle',
                      scaleDownText(s.scaleDown),
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  />
                ),
              },
              {
                id: 'deployment',
                label: 'Deployment',
                cell: s => (
                  <TextCell
                    title={s.deployment}
                    description={`revision ${s.revision ?? '?'}`}
                  />
                ),
              },
              {
                id: 'images',
                label: 'Images',
                cell: s => (
                  <TextCell
                    title={s.images.map(i => i.image).join(', ')}
                    description={s.version && `version ${s.version}`}
                  />
                ),
              },
              {
                id: 'replicas',
                label: 'Available',
                cell: s => (
                  <TextCell
                    title={`${s.rollout.available}/${s.rollout.desired}`}
                    description={`${s.readyEndpoints} ready endpoints`}
                  />
                ),
              },
              {
                id: 'ready',
                label: 'Ready for traffic',
                cell: s => (
                  <TextCell
                    title={s.readyForTraffic ? 'yes' : 'no'}
                    description={s.notReadyReason}
                  />
                ),
              },
            ]}
            rows={rows}
          />
          {!permissionLoading && !allowed && (
            <Text color="secondary">
              Only the owners of this entity can switch or roll back traffic.
            </Text>
          )}
          {allowed && writes.mode === 'disabled' && (
            <Text color="secondary">{writes.reason}</Text>
          )}
          {allowed && writes.mode !== 'disabled' && (
            <Flex gap="2">
              {service.slots
                .filter(s => s.slot !== live)
                .map(s => (
                  <Button
                    key={s.slot}
                    variant="primary"
                    isDisabled={!s.readyForTraffic}
                    onPress={() => open({ kind: 'switch', target: s.slot })}
                  >
                    Switch to {s.slot}
                  </Button>
                ))}
              {rollbackTarget && (
                <Button
                  variant="secondary"
                  onPress={() =>
                    open({ kind: 'rollback', target: rollbackTarget })
                  }
                >
                  Roll back to {rollbackTarget}
                </Button>
              )}
            </Flex>
          )}
          {result && (
            <Alert
              status={result.endpointsConverged ? 'success' : 'warning'}
              title={
                result.endpointsConverged
                  ? `Traffic moved from ${result.from} to ${result.to} in ${result.elapsedMs} ms.`
                  : `The Service now selects ${result.to}, but its endpoints did not all move within ${result.elapsedMs} ms.`
              }
              description={switchResultDetails(result).join(' ') || undefined}
            />
          )}
          {error && <Alert status="danger" title={error} />}
        </Flex>
      </CardBody>
      <SwitchDialog
        entity={entity}
        cluster={cluster}
        writes={writes}
        service={service}
        pending={pending}
        onDone={response => {
          setResult(response);
          onChanged();
        }}
        onError={setError}
        onClose={() => setPending(undefined)}
      />
    </Card>
  );
}
