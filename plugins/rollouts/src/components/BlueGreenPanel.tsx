import {
  CompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardHeader,
  CellText,
  Flex,
  Text,
} from '@backstage/ui';
import {
  BlueGreenService,
  ClusterWriteAccess,
  rolloutsTrafficSwitchPermission,
  SwitchTrafficResponse,
} from '@internal/plugin-rollouts-common';
import { useState } from 'react';
import { rolloutsApiRef } from '../api';
import { useWriteHeaders } from '../hooks/useWriteHeaders';
import { ConfirmDialog, errorMessage, FullTable } from './common';

type Pending =
  | { kind: 'switch'; target: string }
  | { kind: 'rollback'; target: string };

/**
 * One blue-green Service: which slot is live, what each slot runs, and (for
 * users allowed to) Switch / Rollback behind a confirmation. Switching works
 * also when the Service selects a slot with no Deployment (an outage), to
 * recover from it.
 */
export function BlueGreenPanel(props: {
  entity: CompoundEntityRef;
  cluster: string;
  writes: ClusterWriteAccess;
  service: BlueGreenService;
  onChanged: () => void;
}) {
  const { entity, cluster, writes, service, onChanged } = props;
  const api = useApi(rolloutsApiRef);
  const writeHeaders = useWriteHeaders();
  const { allowed, loading: permissionLoading } = usePermission({
    permission: rolloutsTrafficSwitchPermission,
    resourceRef: stringifyEntityRef(entity),
  });
  const [pending, setPending] = useState<Pending | undefined>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<SwitchTrafficResponse | undefined>();
  const [error, setError] = useState<string | undefined>();

  const live = service.liveSlot;
  const rollbackTarget =
    service.previousSlot && service.previousSlot !== live
      ? service.previousSlot
      : undefined;

  const run = async () => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    const request = {
      cluster,
      namespace: service.namespace,
      service: service.service,
      expectedCurrentSlot: service.selectorSlot,
    };
    try {
      const options = { headers: await writeHeaders(writes) };
      const response =
        pending.kind === 'switch'
          ? await api.switchTraffic(
              entity,
              { ...request, targetSlot: pending.target },
              options,
            )
          : await api.rollbackTraffic(entity, request, options);
      setResult(response);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
      setPending(undefined);
    }
  };

  const rows = service.slots.map(s => ({ id: s.slot, ...s }));
  return (
    <Card>
      <CardHeader>
        <Flex justify="between" align="center">
          <Text as="h3" variant="title-x-small" weight="bold">
            Blue-green: {service.namespace}/{service.service}
          </Text>
          <Text>
            Live slot:{' '}
            <strong>{live ?? `none (${service.selectorSlot})`}</strong>
            {service.trafficSlots.length > 0 &&
              ` · endpoints: ${service.trafficSlots.join(', ')}`}
          </Text>
        </Flex>
      </CardHeader>
      <CardBody>
        <Flex direction="column" gap="3">
          {service.problems.map(p => (
            <Alert key={p} status="warning" title={p} />
          ))}
          <FullTable
            columns={[
              {
                id: 'slot',
                label: 'Slot',
                isRowHeader: true,
                cell: s => (
                  <CellText
                    title={s.slot}
                    description={s.live ? 'live' : 'idle'}
                  />
                ),
              },
              {
                id: 'deployment',
                label: 'Deployment',
                cell: s => (
                  <CellText
                    title={s.deployment}
                    description={`revision ${s.revision ?? '?'}`}
                  />
                ),
              },
              {
                id: 'images',
                label: 'Images',
                cell: s => (
                  <CellText title={s.images.map(i => i.image).join(', ')} />
                ),
              },
              {
                id: 'replicas',
                label: 'Available',
                cell: s => (
                  <CellText
                    title={`${s.rollout.available}/${s.rollout.desired}`}
                    description={`${s.readyEndpoints} ready endpoints`}
                  />
                ),
              },
              {
                id: 'ready',
                label: 'Ready for traffic',
                cell: s => (
                  <CellText
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
                    onPress={() =>
                      setPending({ kind: 'switch', target: s.slot })
                    }
                  >
                    Switch to {s.slot}
                  </Button>
                ))}
              {rollbackTarget && (
                <Button
                  variant="secondary"
                  onPress={() =>
                    setPending({ kind: 'rollback', target: rollbackTarget })
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
            />
          )}
          {error && <Alert status="danger" title={error} />}
        </Flex>
      </CardBody>
      <ConfirmDialog
        open={pending !== undefined}
        busy={busy}
        title={
          pending?.kind === 'rollback'
            ? `Roll back ${service.service} to ${pending.target}?`
            : `Switch ${service.service} to ${pending?.target}?`
        }
        confirmLabel={pending?.kind === 'rollback' ? 'Roll back' : 'Switch'}
        onConfirm={run}
        onCancel={() => setPending(undefined)}
      >
        <Text>
          All traffic of Service {service.namespace}/{service.service} in
          cluster {cluster} moves from{' '}
          <strong>{live ?? `${service.selectorSlot} (no Deployment)`}</strong>{' '}
          to <strong>{pending?.target}</strong>. The switch is refused if the
          Service changed since you loaded this page.
        </Text>
      </ConfirmDialog>
    </Card>
  );
}
