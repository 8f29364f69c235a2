import { CompoundEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/frontend-plugin-api';
import { Alert, Checkbox, NumberField, Text } from '@backstage/ui';
import {
  BlueGreenService,
  ClusterWriteAccess,
  MAX_SCALE_DOWN_DELAY_SECONDS,
  SwitchCheck,
  SwitchTrafficResponse,
  TrafficPreflightResponse,
} from '@golden-path/plugin-rollouts-common';
import { useEffect, useState } from 'react';
import { rolloutsApiRef } from '../api';
import { useWriteHeaders } from '../hooks/useWriteHeaders';
import { CHECK_LABEL } from './blueGreenText';
import { ConfirmDialog, errorMessage } from './common';

/** A switch or rollback the user asked for, waiting for confirmation. */
export interface PendingSwitch {
  kind: 'switch' | 'rollback';
  target: string;
}

/** Default of the scale-down delay field: ten minutes of instant rollback. */
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 600;

const STATUS_COLOR = {
  passed: 'success',
  failed: 'danger',
  skipped: 'secondary',
  pending: 'secondary',
} as const;

function CheckList({ checks }: { checks: SwitchCheck[] }) {
  return (
    <ul
      aria-label="Checks before the switch"
      style={{ margin: 0, paddingLeft: '1.2em' }}
    >
      {checks.map(c => (
        <li key={c.id} aria-label={`${CHECK_LABEL[c.id]}: ${c.status}`}>
          <Text weight="bold" color={STATUS_COLOR[c.status]}>
            {CHECK_LABEL[c.id]}: {c.status}
          </Text>{' '}
          <Text>{c.message}</Text>
        </li>
      ))}
    </ul>
  );
}

/**
 * The confirmation of a switch or rollback: it runs the same checks as the
 * switch (the smoke test through the preview Service included) and shows them
 * before the user confirms, and offers to keep the slot left running for an
 * instant rollback and scale it down later.
 */
export function SwitchDialog(props: {
  entity: CompoundEntityRef;
  cluster: string;
  writes: ClusterWriteAccess;
  service: BlueGreenService;
  pending?: PendingSwitch;
  onDone: (result: SwitchTrafficResponse) => void;
  onError: (message: string) => void;
  onClose: () => void;
}) {
  const { entity, cluster, writes, service, pending, onDone, onError } = props;
  const api = useApi(rolloutsApiRef);
  const writeHeaders = useWriteHeaders();
  const [preflight, setPreflight] = useState<
    TrafficPreflightResponse | undefined
  >();
  const [preflightError, setPreflightError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [scaleDownLater, setScaleDownLater] = useState(false);
  const [delaySeconds, setDelaySeconds] = useState(
    DEFAULT_SCALE_DOWN_DELAY_SECONDS,
  );

  const from = service.selectorSlot;
  const request = {
    cluster,
    namespace: service.namespace,
    service: service.service,
    expectedCurrentSlot: from,
  };

  useEffect(() => {
    setPreflight(undefined);
    setPreflightError(undefined);
    setScaleDownLater(false);
    if (!pending) return undefined;
    let current = true;
    (async () => {
      try {
        const response = await api.preflightTraffic(
          entity,
          pending.kind === 'switch'
            ? { ...request, action: 'switch', targetSlot: pending.target }
            : { ...request, action: 'rollback' },
          { headers: await writeHeaders(writes) },
        );
        if (current) setPreflight(response);
      } catch (e) {
        if (current) setPreflightError(errorMessage(e));
      }
    })();
    return () => {
      current = false;
    };
    // The checks run once per opened dialog.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pending]);

  // Only the plugin's own identity can scale down later, without the user.
  const canScaleDownLater =
    writes.mode === 'plugin' && service.slots.some(s => s.slot === from);
  const delayValid =
    Number.isInteger(delaySeconds) &&
    delaySeconds >= 0 &&
    delaySeconds <= MAX_SCALE_DOWN_DELAY_SECONDS;

  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    const body = {
      ...request,
      ...(scaleDownLater && { scaleDownDelaySeconds: delaySeconds }),
    };
    try {
      const options = { headers: await writeHeaders(writes) };
      onDone(
        pending.kind === 'switch'
          ? await api.switchTraffic(
              entity,
              { ...body, targetSlot: pending.target },
              options,
            )
          : await api.rollbackTraffic(entity, body, options),
      );
    } catch (e) {
      onError(errorMessage(e));
    } finally {
      setBusy(false);
      props.onClose();
    }
  };

  return (
    <ConfirmDialog
      open={pending !== undefined}
      busy={busy}
      confirmDisabled={
        !preflight?.ok || (scaleDownLater && !delayValid) || busy
      }
      title={
        pending?.kind === 'rollback'
          ? `Roll back ${service.service} to ${pending.target}?`
          : `Switch ${service.service} to ${pending?.target}?`
      }
      confirmLabel={pending?.kind === 'rollback' ? 'Roll back' : 'Switch'}
      onConfirm={confirm}
      onCancel={props.onClose}
    >
      <Text>
        All traffic of Service {service.namespace}/{service.service} in cluster{' '}
        {cluster} moves from{' '}
        <strong>{service.liveSlot ?? `${from} (no Deployment)`}</strong> to{' '}
        <strong>{pending?.target}</strong>. The switch is refused if the Service
        changed since you loaded this page.
      </Text>
      {!preflight && !preflightError && (
        <Text color="secondary">
          Running the checks (with a smoke test through the preview Service)…
        </Text>
      )}
      {preflightError && (
        <Alert
          status="danger"
          title={`The checks could not run: ${preflightError}`}
        />
      )}
      {preflight?.scaleUpFirst && (
        <Alert
          status="info"
          title={`${preflight.scaleUpFirst.slot} was scaled down: the rollback scales it back up to ${preflight.scaleUpFirst.replicas} replicas first and waits until it is ready.`}
        />
      )}
      {preflight && <CheckList checks={preflight.checks} />}
      {preflight && !preflight.ok && (
        <Alert
          status="warning"
          title="A check failed: the switch would be refused."
        />
      )}
      {canScaleDownLater && (
        <Checkbox isSelected={scaleDownLater} onChange={setScaleDownLater}>
          Keep {from} running for an instant rollback, then scale it down
        </Checkbox>
      )}
      {canScaleDownLater && scaleDownLater && (
        <NumberField
          label="Scale-down delay (seconds)"
          minValue={0}
          maxValue={MAX_SCALE_DOWN_DELAY_SECONDS}
          step={1}
          value={delaySeconds}
          onChange={setDelaySeconds}
        />
      )}
    </ConfirmDialog>
  );
}
