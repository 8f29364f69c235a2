import {
  CompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import { Alert, Button, Cell, Flex, Text } from '@backstage/ui';
import {
  ClusterWriteAccess,
  DeploymentView,
  rolloutsDeploymentRestartPermission,
  rolloutsDeploymentUndoPermission,
} from '@golden-path/plugin-rollouts-common';
import { useState } from 'react';
import { rolloutsApiRef } from '../api';
import { useWriteHeaders } from '../hooks/useWriteHeaders';
import {
  ConfirmDialog,
  errorMessage,
  FullTable,
  PhaseBadge,
  TextCell,
} from './common';

type Action = { kind: 'restart' | 'undo'; deployment: DeploymentView };

function strategyText(d: DeploymentView): string {
  const s = d.status.strategy;
  if (s.type !== 'RollingUpdate') return s.type;
  return `RollingUpdate: surge ${s.maxSurge} (${s.maxSurgePods} pods), unavailable ${s.maxUnavailable} (${s.maxUnavailablePods} pods)`;
}

/**
 * The entity's Deployments with rollout state, like `kubectl rollout status`,
 * and (for users allowed to) Restart and Undo. A paused Deployment is shown
 * as paused and offers neither: both would only queue a change.
 */
export function RolloutTable(props: {
  entity: CompoundEntityRef;
  writes: ClusterWriteAccess;
  deployments: DeploymentView[];
  onChanged: () => void;
}) {
  const { entity, writes, deployments, onChanged } = props;
  const api = useApi(rolloutsApiRef);
  const writeHeaders = useWriteHeaders();
  const resourceRef = stringifyEntityRef(entity);
  const canRestart = usePermission({
    permission: rolloutsDeploymentRestartPermission,
    resourceRef,
  }).allowed;
  const canUndo = usePermission({
    permission: rolloutsDeploymentUndoPermission,
    resourceRef,
  }).allowed;
  const [action, setAction] = useState<Action | undefined>();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<
    { status: 'success' | 'danger'; text: string } | undefined
  >();

  const run = async () => {
    if (!action) return;
    const { deployment: d, kind } = action;
    const request = {
      cluster: d.cluster,
      namespace: d.namespace,
      deployment: d.name,
    };
    setBusy(true);
    try {
      const options = { headers: await writeHeaders(writes) };
      if (kind === 'restart') {
        const r = await api.restartDeployment(entity, request, options);
        setMessage({
          status: 'success',
          text: `Restarted ${d.name} at ${r.restartedAt}.`,
        });
      } else {
        // The revision the dialog showed: the backend must not pick another
        // one if the history changed in between.
        const target = d.history[1]?.revision;
        const r = await api.undoDeployment(
          entity,
          { ...request, ...(target && { toRevision: target }) },
          options,
        );
        setMessage({
          status: 'success',
          text: r.skipped
            ? `${d.name} already runs revision ${r.toRevision}.`
            : `${d.name} rolls back from revision ${r.fromRevision} to ${r.toRevision}.`,
        });
      }
      onChanged();
    } catch (e) {
      setMessage({ status: 'danger', text: errorMessage(e) });
    } finally {
      setBusy(false);
      setAction(undefined);
    }
  };

  const rows = deployments.map(d => ({
    id: `${d.cluster}/${d.namespace}/${d.name}`,
    ...d,
  }));
  const previous = action?.deployment.history[1];
  return (
    <Flex direction="column" gap="2">
      <FullTable
        columns={[
          {
            id: 'name',
            label: 'Deployment',
            isRowHeader: true,
            cell: d => (
              <TextCell
                title={d.name}
                description={`${d.namespace} · revision ${
                  d.status.revision ?? '?'
                }`}
              />
            ),
          },
          {
            id: 'phase',
            label: 'Rollout',
            cell: d => (
              <Cell>
                <Flex direction="column" gap="1">
                  <PhaseBadge phase={d.status.phase} paused={d.status.paused} />
                  <Text variant="body-small">{d.status.message}</Text>
                </Flex>
              </Cell>
            ),
          },
          {
            id: 'replicas',
            label: 'Desired / updated / ready / available',
            cell: d => (
              <TextCell
                title={`${d.status.desired} / ${d.status.updated} / ${d.status.ready} / ${d.status.available}`}
                description={d.hpa ? `scaled by HPA ${d.hpa}` : undefined}
              />
            ),
          },
          {
            id: 'strategy',
            label: 'Strategy',
            cell: d => <TextCell title={strategyText(d)} />,
          },
          {
            id: 'images',
            label: 'Images',
            cell: d => (
              <TextCell
                title={d.status.images
                  .map(i => `${i.container}: ${i.image}`)
                  .join(', ')}
              />
            ),
          },
          {
            id: 'actions',
            label: 'Actions',
            cell: d => (
              <Cell>
                <Flex gap="1">
                  {(canRestart || canUndo) && writes.mode === 'disabled' && (
                    <Text variant="body-small" color="secondary">
                      {writes.reason}
                    </Text>
                  )}
                  {canRestart &&
                    writes.mode !== 'disabled' &&
                    !d.status.paused && (
                      <Button
                        size="small"
                        variant="secondary"
                        onPress={() =>
                          setAction({ kind: 'restart', deployment: d })
                        }
                      >
                        Restart
                      </Button>
                    )}
                  {canUndo &&
                    writes.mode !== 'disabled' &&
                    !d.status.paused && (
                      <Button
                        size="small"
                        variant="secondary"
                        isDisabled={d.history.length < 2}
                        onPress={() =>
                          setAction({ kind: 'undo', deployment: d })
                        }
                      >
                        Undo
                      </Button>
                    )}
                </Flex>
              </Cell>
            ),
          },
        ]}
        rows={rows}
        empty="No Deployments carry this entity's labels."
      />
      {message && <Alert status={message.status} title={message.text} />}
      <ConfirmDialog
        open={action !== undefined}
        busy={busy}
        destructive={action?.kind === 'undo'}
        title={
          action?.kind === 'undo'
            ? `Roll back ${action.deployment.name}?`
            : `Restart ${action?.deployment.name}?`
        }
        confirmLabel={action?.kind === 'undo' ? 'Roll back' : 'Restart'}
        onConfirm={run}
        onCancel={() => setAction(undefined)}
      >
        {action?.kind === 'undo' ? (
          <Text>
            The pod template goes back to revision {previous?.revision} (
            {previous?.images.join(', ')}), like kubectl rollout undo.
          </Text>
        ) : (
          <Text>
            Every pod is replaced following the Deployment's rolling update
            strategy, like kubectl rollout restart.
          </Text>
        )}
      </ConfirmDialog>
    </Flex>
  );
}
